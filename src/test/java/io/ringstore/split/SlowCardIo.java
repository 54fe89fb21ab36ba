package io.ringstore.split;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * The real storage layer with a card's latency added to each main-log force (the writer's) while
 * {@link #slow} is set: the writer sees forces as slow as a stalling SD card's, through the same
 * seam; the splitter's stream-file writes and syncs are left as fast as the disk.
 */
final class SlowCardIo implements StorageIo {
    private final StorageIo real = new FileStorageIo();
    private volatile long forceDelayMillis;

    /** Every main-log force from now on takes at least {@code millis} more (0: as fast as the disk). */
    void slow(long millis) {
        forceDelayMillis = millis;
    }

    @Override
    public void allocate(Path file, long size) throws IOException {
        real.allocate(file, size);
    }

    @Override
    public MemorySegment map(Path file, long size, Arena arena) throws IOException {
        return real.map(file, size, arena);
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException {
        real.write(mapping, offset, source);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        long delay = forceDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep(delay); // the card's latency, not a wait for another thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted during a slow force", e);
            }
        }
        real.force(mapping, offset, length);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        real.forceDirectory(dir);
    }

    @Override
    public void writeFile(Path file, byte[] content) throws IOException {
        real.writeFile(file, content);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        real.rename(from, to);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return real.open(file, options);
    }

    @Override
    public void syncfs(Path path) throws IOException {
        real.syncfs(path);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        return real.deleteIfExists(file);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        real.createDirectories(dir);
    }
}
