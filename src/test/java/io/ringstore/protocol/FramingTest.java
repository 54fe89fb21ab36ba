package io.ringstore.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.Request;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import org.junit.jupiter.api.Test;

/** The varint framing: compatible with protobuf's delimited format, strict about lengths. */
class FramingTest {
    private static Framing.Reader reader(byte[] bytes) {
        // A channel that hands out one byte per read, so every boundary is crossed.
        ReadableByteChannel slow = new ReadableByteChannel() {
            private final ReadableByteChannel in = Channels.newChannel(new ByteArrayInputStream(bytes));

            @Override
            public int read(ByteBuffer dst) throws java.io.IOException {
                ByteBuffer one = ByteBuffer.allocate(1);
                int n = in.read(one);
                if (n > 0) {
                    dst.put(one.flip());
                }
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
        return new Framing.Reader(slow, 16);
    }

    @Test
    void framesRoundTripWithProtobufsDelimitedFormat() throws Exception {
        Request big = Request.newBuilder().setId(300)
                .setPing(PingRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[200]))).build();
        Request small = Request.newBuilder().setId(1).build();
        ByteArrayOutputStream theirs = new ByteArrayOutputStream();
        big.writeDelimitedTo(theirs);
        small.writeDelimitedTo(theirs);
        Framing.Writer ours = new Framing.Writer(8);
        ours.add(big);
        ours.add(small);
        ByteBuffer b = ours.buffer();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        assertArrayEquals(theirs.toByteArray(), bytes);

        Framing.Reader r = reader(bytes);
        assertEquals(big, Request.parseFrom(r.readBody(r.readLength(1024))));
        int n = r.readLength(1024);
        assertEquals(small.getSerializedSize(), n);
        assertEquals(small, Request.parseFrom(r.readBody(n)));
        assertEquals(-1, r.readLength(1024), "clean end between frames");
    }

    @Test
    void lengthsAreCheckedBeforeAnythingIsAllocated() throws Exception {
        // 0xffffffff would need 4 GiB; refused from its first bytes.
        var e = assertThrows(Framing.FrameTooLargeException.class,
                () -> reader(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}).readLength(1 << 20));
        assertEquals(true, e.length() > 1 << 20);
        assertThrows(Framing.FrameTooLargeException.class, () -> reader(new byte[] {(byte) 0x81, 0x08}).readLength(1024));
        assertEquals(1024, reader(new byte[] {(byte) 0x80, 0x08}).readLength(1024));
        assertThrows(Framing.MalformedFrameException.class,
                () -> reader(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0}).readLength(Integer.MAX_VALUE));
        assertThrows(Framing.MalformedFrameException.class, () -> reader(new byte[] {(byte) 0x85}).readLength(1024));
        Framing.Reader cut = reader(new byte[] {5, 1, 2});
        int n = cut.readLength(1024);
        assertThrows(Framing.MalformedFrameException.class, () -> cut.readBody(n));
    }

    /**
     * A declared length is a promise, not bytes: a frame that declares 8 MiB and sends 100 bytes
     * must cost about what it sent (issue 14: fuzzed connections took the daemon's heap, and its
     * RSS, to the maximum), and a body longer than the first allocation still reads back whole.
     */
    @Test
    void aBodyGrowsAsItsBytesArriveNotToItsDeclaredLength() throws Exception {
        ByteArrayOutputStream cutOff = new ByteArrayOutputStream();
        int declared = 8 << 20;
        for (long v = declared; ; v >>>= 7) {
            if ((v & ~0x7fL) == 0) {
                cutOff.write((int) v);
                break;
            }
            cutOff.write((int) ((v & 0x7f) | 0x80));
        }
        cutOff.write(new byte[100]);
        Framing.Reader cut = new Framing.Reader(Channels.newChannel(new ByteArrayInputStream(cutOff.toByteArray())), 4096);
        assertEquals(declared, cut.readLength(declared));
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertThrows(Framing.MalformedFrameException.class, () -> cut.readBody(declared));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(true, allocated < 1 << 20, "a cut-off 8 MiB frame allocated " + allocated + " bytes");

        byte[] payload = new byte[5 * Framing.Reader.FIRST_BODY_BYTES / 2 + 7];
        new java.util.Random(14).nextBytes(payload);
        Request big = Request.newBuilder().setId(7).setPing(PingRequest.newBuilder().setPayload(ByteString.copyFrom(payload)))
                .build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        big.writeDelimitedTo(out);
        Framing.Reader whole = new Framing.Reader(Channels.newChannel(new ByteArrayInputStream(out.toByteArray())), 4096);
        byte[] body = whole.readBody(whole.readLength(1 << 20));
        assertEquals(big.getSerializedSize(), body.length);
        assertEquals(big, Request.parseFrom(body));
    }
}
