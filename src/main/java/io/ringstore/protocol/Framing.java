package io.ringstore.protocol;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;

/**
 * The wire framing of {@code src/main/proto/ringstore.proto}: every message is preceded by its
 * length as a base-128 varint (protobuf's delimited format).
 *
 * <pre>
 *  0                   1..5
 * +-------------------+----------------------------------+
 * | length: varint    | message: protobuf, length bytes  |
 * | 7 bits per byte,  |                                  |
 * | low group first,  |                                  |
 * | high bit = more   |                                  |
 * +-------------------+----------------------------------+
 * </pre>
 *
 * No checksum (the socket is local and reliable) and no version field (the schema evolves by
 * adding fields). The reader here parses the varint itself so that a length above the limit is
 * rejected before anything is allocated: {@code parseDelimitedFrom} would allocate first.
 */
public final class Framing {
    /** A varint of a length that fits in an int takes at most 5 bytes. */
    public static final int MAX_VARINT_BYTES = 5;

    private Framing() {}

    /** The declared length is above the limit; nothing of the body was read. */
    public static final class FrameTooLargeException extends IOException {
        private final long length;

        FrameTooLargeException(long length, int max) {
            super("frame too large: length=" + length + " max=" + max);
            this.length = length;
        }

        public long length() {
            return length;
        }
    }

    /** The bytes are not a frame: a varint longer than 5 bytes, or a stream cut inside a frame. */
    public static final class MalformedFrameException extends IOException {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    /**
     * Reads frames from a blocking channel through one reusable buffer. Not thread-safe: one
     * reader per channel.
     */
    public static final class Reader {
        /** A frame body's first allocation; it doubles as more of the body arrives. */
        static final int FIRST_BODY_BYTES = 64 << 10;
        private final ReadableByteChannel channel;
        private final ByteBuffer buffer;

        /** The first allocation of a body: {@link #FIRST_BODY_BYTES}, or the whole length from a trusted peer. */
        private final int firstBodyBytes;

        public Reader(ReadableByteChannel channel, int bufferSize) {
            this(channel, bufferSize, FIRST_BODY_BYTES);
        }

        private Reader(ReadableByteChannel channel, int bufferSize, int firstBodyBytes) {
            this.channel = channel;
            this.buffer = ByteBuffer.allocate(bufferSize);
            this.firstBodyBytes = firstBodyBytes;
            buffer.flip();
        }

        /**
         * A reader for frames from a peer trusted to send what it declares (a client reading its
         * daemon's answers): a body is allocated at its full length at once, so a 1 MiB read page
         * is not grown by doubling.
         */
        public static Reader trusting(ReadableByteChannel channel, int bufferSize) {
            return new Reader(channel, bufferSize, Integer.MAX_VALUE);
        }

        /**
         * Reads the next frame's length.
         *
         * @return the length, or -1 at a clean end of stream (between frames)
         * @throws FrameTooLargeException when the length is above {@code max}
         * @throws MalformedFrameException when the varint is too long or cut off
         */
        public int readLength(int max) throws IOException {
            long value = 0;
            for (int i = 0; i < MAX_VARINT_BYTES; i++) {
                if (!buffer.hasRemaining() && !fill()) {
                    if (i == 0) {
                        return -1;
                    }
                    throw new MalformedFrameException("stream ended inside a length varint: bytes=" + i);
                }
                int b = buffer.get() & 0xff;
                value |= (long) (b & 0x7f) << (7 * i);
                if ((b & 0x80) == 0) {
                    if (value > max) {
                        throw new FrameTooLargeException(value, max);
                    }
                    return (int) value;
                }
                if (value > max) {
                    // Already too large whatever follows: say so without reading further.
                    throw new FrameTooLargeException(value, max);
                }
            }
            throw new MalformedFrameException("length varint longer than " + MAX_VARINT_BYTES + " bytes");
        }

        /**
         * Reads exactly {@code length} bytes of a frame body whose length was just read. The body
         * grows as its bytes arrive (doubling from {@link #FIRST_BODY_BYTES}), not allocated at the
         * declared length: a peer that declares a frame near the limit and sends little or nothing
         * (a fuzzer, a client that dies) costs what it sent, not the limit (8 MiB in the daemon,
         * which took its heap to the maximum and its RSS with it; issue 14). A full large frame
         * costs about one extra copy of itself.
         */
        public byte[] readBody(int length) throws IOException {
            byte[] body = new byte[Math.min(length, firstBodyBytes)];
            int at = 0;
            while (at < length) {
                if (at == body.length) {
                    body = Arrays.copyOf(body, (int) Math.min(length, 2L * body.length));
                }
                if (!buffer.hasRemaining() && body.length - at >= buffer.capacity()) {
                    // A large body: straight from the channel, not through the buffer.
                    int read = channel.read(ByteBuffer.wrap(body, at, body.length - at));
                    if (read < 0) {
                        throw new MalformedFrameException("stream ended inside a frame: read=" + at + " length=" + length);
                    }
                    if (read == 0) {
                        throw new EOFException("channel returned no bytes in blocking mode");
                    }
                    at += read;
                    continue;
                }
                if (!buffer.hasRemaining() && !fill()) {
                    throw new MalformedFrameException("stream ended inside a frame: read=" + at + " length=" + length);
                }
                int n = Math.min(buffer.remaining(), body.length - at);
                buffer.get(body, at, n);
                at += n;
            }
            return body;
        }

        /**
         * Bytes already read from the channel and not yet returned: the start of the frames that
         * follow the one just read (0: nothing more has arrived, as far as this reader knows).
         */
        public int buffered() {
            return buffer.remaining();
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

    /**
     * Collects frames in one growable array so that many can go out in one write. Not
     * thread-safe.
     */
    public static final class Writer {
        private byte[] bytes;
        private int size;

        public Writer(int initialCapacity) {
            bytes = new byte[initialCapacity];
        }

        /** Appends {@code message} as one frame. */
        public void add(MessageLite message) {
            int length = message.getSerializedSize();
            int need = CodedOutputStream.computeUInt32SizeNoTag(length) + length;
            if (size + need > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + need));
            }
            CodedOutputStream out = CodedOutputStream.newInstance(bytes, size, need);
            try {
                out.writeUInt32NoTag(length);
                message.writeTo(out);
                out.checkNoSpaceLeft();
            } catch (IOException e) {
                throw new IllegalStateException("frame size computed wrongly", e);
            }
            size += need;
        }

        public int size() {
            return size;
        }

        /** The collected frames, valid until the next {@link #reset}. */
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes, 0, size);
        }

        /** Empties the writer; gives back memory a very large frame made it take. */
        public void reset(int keepCapacity) {
            size = 0;
            if (bytes.length > keepCapacity) {
                bytes = new byte[keepCapacity];
            }
        }
    }
}
