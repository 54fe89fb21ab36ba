package io.ringstore.log;

import io.ringstore.nativeio.NoSpaceException;
import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.tinylog.Logger;

/** The real thing: fallocate (zero-fill fallback), mmap advised MADV_RANDOM, msync, fsync. */
public final class FileStorageIo implements StorageIo {
    private static final int ZERO_CHUNK = 1 << 20;
    private static volatile boolean loggedFallback;
    private static volatile boolean loggedAdviceFailure;

    @Override
    public void allocate(Path file, long size) throws IOException {
        if (Posix.fallocate(file, size) == Posix.Allocation.ALLOCATED) {
            return;
        }
        if (!loggedFallback) {
            loggedFallback = true;
            Logger.warn("fallocate unsupported here, segments are zero-filled instead (one extra write each) dir={}",
                    file.getParent());
        }
        zeroFill(file, size);
    }

    private static void zeroFill(Path file, long size) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long pos = 0;
            while (pos < size) {
                zeros.clear().limit((int) Math.min(ZERO_CHUNK, size - pos));
                while (zeros.hasRemaining()) {
                    pos += ch.write(zeros, pos);
                }
            }
            ch.force(true);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left")) {
                throw new NoSpaceException("no space to zero-fill file=" + file + " bytes=" + size, e);
            }
            throw e;
        }
    }

    @Override
    public MemorySegment map(Path file, long size, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() < size) {
                throw new IOException("segment smaller than expected: file=" + file + " size=" + ch.size()
                        + " expected=" + size);
            }
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            if (!Posix.adviseRandom(mapping) && !loggedAdviceFailure) {
                loggedAdviceFailure = true;
                Logger.warn("madvise(MADV_RANDOM) refused; msync may write back more than it must file={}", file);
            }
            return mapping;
        }
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) {
        MemorySegment.copy(source, 0, mapping, offset, source.byteSize());
    }

    @Override
    public void write(MemorySegment mapping, long offset, byte[] source, int from, int length) {
        MemorySegment.copy(source, from, mapping, ValueLayout.JAVA_BYTE, offset, length);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        try {
            mapping.asSlice(offset, length).force();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public void writeFile(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return FileChannel.open(file, options);
    }

    @Override
    public void syncfs(Path path) throws IOException {
        Posix.syncfs(path);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        return Files.deleteIfExists(file);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir);
    }
}
