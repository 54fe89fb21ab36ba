package io.ringstore.log;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * A {@link StorageIo} that passes every call to another; tests extend it and override only the
 * calls they watch, delay or change.
 */
public class ForwardingStorageIo implements StorageIo {
    protected final StorageIo delegate;

    /** Forwards to the real file storage. */
    public ForwardingStorageIo() {
        this(new FileStorageIo());
    }

    public ForwardingStorageIo(StorageIo delegate) {
        this.delegate = delegate;
    }

    @Override
    public void allocate(Path file, long size) throws IOException {
        delegate.allocate(file, size);
    }

    @Override
    public MemorySegment map(Path file, long size, Arena arena) throws IOException {
        return delegate.map(file, size, arena);
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException {
        delegate.write(mapping, offset, source);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        delegate.force(mapping, offset, length);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        delegate.forceDirectory(dir);
    }

    @Override
    public void writeFile(Path file, byte[] content) throws IOException {
        delegate.writeFile(file, content);
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        delegate.rename(from, to);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return delegate.open(file, options);
    }

    @Override
    public void syncfs(Path path) throws IOException {
        delegate.syncfs(path);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        return delegate.deleteIfExists(file);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        delegate.createDirectories(dir);
    }
}
