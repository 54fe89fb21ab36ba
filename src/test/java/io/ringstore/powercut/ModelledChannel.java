package io.ringstore.powercut;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A channel opened through {@link PowerCutIo}: every call goes to the real channel; writes,
 * truncations and forces count as operations (a cut can land before any of them), and a force
 * tells the model that the file's bytes and size are now durable.
 */
final class ModelledChannel extends FileChannel {
    private final FileChannel ch;
    /** The same inode opened for reading, so a force can read what it made durable (renames or not). */
    private final FileChannel reader;
    private final long id;
    private final PowerCutIo model;

    ModelledChannel(FileChannel ch, FileChannel reader, long id, PowerCutIo model) {
        this.ch = ch;
        this.reader = reader;
        this.id = id;
        this.model = model;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return ch.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return ch.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        model.channelOperation("write");
        model.checkSpace(this);
        return ch.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        model.channelOperation("write");
        model.checkSpace(this);
        return ch.write(srcs, offset, length);
    }

    private boolean isFull() {
        try {
            model.checkSpace(this);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public long position() throws IOException {
        return ch.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        ch.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return ch.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        model.channelOperation("truncate");
        ch.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        model.channelOperation("fsync");
        ch.force(metaData);
        model.forced(id, reader);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return ch.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        model.channelOperation("write");
        return ch.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return ch.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        model.channelOperation("write");
        if (isFull()) {
            if (src.remaining() > 1) {
                // Part of the write fits, as on a filesystem that runs out part way; then ENOSPC.
                int n = ch.write(src.slice(src.position(), src.remaining() / 2), position);
                src.position(src.position() + n);
            }
            model.checkSpace(this);
        }
        return ch.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        throw new UnsupportedOperationException("map files through StorageIo.map, so the model sees their forces");
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return ch.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return ch.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        try (reader) {
            ch.close();
        }
    }
}
