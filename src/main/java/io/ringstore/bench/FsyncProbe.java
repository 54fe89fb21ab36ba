package io.ringstore.bench;

import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The device's durable-write latency: {@code count} writes of 4 KiB, one after another into a
 * preallocated file, each followed by {@code fdatasync} before the next. What one durable
 * append of one small event costs at best on this storage, with nothing else in the way.
 */
final class FsyncProbe {
    static final int BLOCK = 4096;

    /**
     * @param writes     writes timed
     * @param p50Micros  median write + fdatasync
     * @param p99Micros  99th percentile
     * @param maxMicros  slowest
     */
    record Result(int writes, long p50Micros, long p99Micros, long maxMicros) {}

    private FsyncProbe() {}

    /** Runs the probe in {@code file} (created, then deleted). */
    static Result run(Path file, int count, long seed) throws IOException {
        Posix.fallocate(file, (long) BLOCK * count);
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
        byte[] bytes = new byte[BLOCK];
        new SplittableRandom(seed).nextBytes(bytes);
        block.put(bytes).flip();
        long[] micros = new long[count];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (int i = 0; i < count; i++) {
                block.rewind();
                long start = System.nanoTime();
                long at = (long) i * BLOCK;
                while (block.hasRemaining()) {
                    at += ch.write(block, at);
                }
                ch.force(false);
                micros[i] = (System.nanoTime() - start) / 1_000;
            }
        } finally {
            Files.deleteIfExists(file);
        }
        Arrays.sort(micros);
        return new Result(count, Percentiles.of(micros, 0.50), Percentiles.of(micros, 0.99),
                count == 0 ? 0 : micros[count - 1]);
    }
}
