package io.ringstore.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;

/**
 * Reads newline-terminated lines from a blocking channel, each at most {@code max} bytes (without
 * its newline; a trailing carriage return is dropped). A longer line is refused as soon as it is
 * longer, without reading the rest. The line grows as its bytes arrive (doubling), so a peer that
 * sends a long line costs what it sent, as a frame body does (see Framing.Reader). Not
 * thread-safe: one reader per channel.
 */
final class LineReader {
    /** A line longer than the limit; the rest of it was not read. */
    static final class TooLongException extends IOException {
        TooLongException(int max) {
            super("line longer than the limit: max=" + max + " bytes");
        }
    }

    private final ReadableByteChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(64 << 10).flip();
    private final int max;
    private byte[] line = new byte[4096];

    LineReader(ReadableByteChannel channel, int max) {
        this.channel = channel;
        this.max = max;
    }

    /** The next line's bytes, or null at end of stream (a last line without newline is returned first). */
    byte[] next() throws IOException {
        int size = 0;
        while (true) {
            if (!buffer.hasRemaining() && !fill()) {
                return size == 0 ? null : Arrays.copyOf(line, size);
            }
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b == '\n') {
                    if (size > 0 && line[size - 1] == '\r') {
                        size--;
                    }
                    byte[] out = Arrays.copyOf(line, size);
                    if (line.length > (256 << 10)) {
                        line = new byte[4096]; // give back what a long line took
                    }
                    return out;
                }
                if (size == max) {
                    throw new TooLongException(max);
                }
                if (size == line.length) {
                    line = Arrays.copyOf(line, (int) Math.min(max, 2L * line.length));
                }
                line[size++] = b;
            }
        }
    }

    private boolean fill() throws IOException {
        buffer.clear();
        int n;
        try {
            n = channel.read(buffer);
        } finally {
            buffer.flip();
        }
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            throw new EOFException("channel returned no bytes in blocking mode");
        }
        return true;
    }
}
