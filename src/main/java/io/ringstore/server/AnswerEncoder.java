package io.ringstore.server;

import io.ringstore.jsonlines.JsonAnswers;
import io.ringstore.protocol.Framing;
import io.ringstore.protocol.v1.Response;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns answers into the bytes of one socket's dialect, many answers per write: varint-delimited
 * frames (ringstore.proto) or JSON lines (README "JSON lines"). Not thread-safe: owned by the
 * thread that writes for the connection (see {@link Outbound}).
 */
interface AnswerEncoder {
    /** Appends one answer. */
    void add(Response response);

    /** The answers added since the last reset, valid until the next {@link #reset}. */
    ByteBuffer buffer();

    /** Empties the encoder; gives back memory a very large answer made it take. */
    void reset(int keepCapacity);

    /** Protobuf frames, through {@link Framing.Writer}. */
    static AnswerEncoder frames() {
        Framing.Writer w = new Framing.Writer(16 << 10);
        return new AnswerEncoder() {
            @Override
            public void add(Response response) {
                w.add(response);
            }

            @Override
            public ByteBuffer buffer() {
                return w.buffer();
            }

            @Override
            public void reset(int keepCapacity) {
                w.reset(keepCapacity);
            }
        };
    }

    /** JSON lines: each answer's line (see {@link JsonAnswers}) and a newline, UTF-8. */
    static AnswerEncoder jsonLines() {
        return new AnswerEncoder() {
            private byte[] bytes = new byte[16 << 10];
            private int size;

            @Override
            public void add(Response response) {
                byte[] line = JsonAnswers.line(response).getBytes(StandardCharsets.UTF_8);
                if (size + line.length + 1 > bytes.length) {
                    bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + line.length + 1));
                }
                System.arraycopy(line, 0, bytes, size, line.length);
                size += line.length;
                bytes[size++] = '\n';
            }

            @Override
            public ByteBuffer buffer() {
                return ByteBuffer.wrap(bytes, 0, size);
            }

            @Override
            public void reset(int keepCapacity) {
                size = 0;
                if (bytes.length > keepCapacity) {
                    bytes = new byte[keepCapacity];
                }
            }
        };
    }
}
