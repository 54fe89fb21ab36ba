package io.ringstore.fault;

import io.ringstore.log.ForwardingFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A channel from {@link FaultInjectingIo#open}: passes everything to the real channel, lets the
 * fault layer fail writes ({@code FILE_WRITE}, after writing part of the bytes, as a short write
 * followed by an error does) and forces ({@code FILE_FORCE}), and tells the fault layer's
 * {@link Writeback} model which pages each write, truncation and force touches.
 */
final class FaultChannel extends ForwardingFileChannel {
    private final FaultInjectingIo io;
    private final Path file;

    FaultChannel(FaultInjectingIo io, Path file, FileChannel delegate) {
        super(delegate);
        this.io = io;
        this.file = file;
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        io.beforeTruncate(file, delegate, size);
        delegate.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        io.forceFile(file, delegate, metaData);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        return io.channelWrite(file, delegate, src, position);
    }
}
