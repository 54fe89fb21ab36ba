package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.Direction;
import io.ringstore.protocol.v1.ExpectedState;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusRequest;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.protocol.v1.UnsubscribeRequest;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throws random and mutated frames at the server for a fixed number of seeded iterations: it must
 * answer or close each bad connection, keep serving a well-behaved client throughout, keep every
 * stored event intact, and give back every connection and request byte.
 */
class ServerFuzzTest {
    private static final long SEED = 0x5eed_4a11L;
    private static final int ITERATIONS = 600;
    private static final int MAX_FRAME = 64 << 10;

    @TempDir
    Path dir;

    enum Kind {
        RANDOM_BYTES, TRUNCATED_VARINT, HUGE_LENGTH, LENGTH_JUST_OVER, LONG_VARINT, TRUNCATED_BODY,
        RANDOM_BODY, MUTATED_REQUEST, INVALID_FIELDS, WRONG_WIRE_TYPES
    }

    @Test
    void badFramesNeverHurtTheServerOrOtherClients() throws Exception {
        Random random = new Random(SEED);
        try (TestServer t = TestServer.start(dir, c -> c.withMaxFrameBytes(MAX_FRAME))) {
            RingStoreClient good = t.client();
            List<AppendResult> goodAppends = new ArrayList<>();
            List<byte[]> goodData = new ArrayList<>();
            Map<Kind, int[]> outcomes = new EnumMap<>(Kind.class); // [answered-and-closed, closed silently, kept open]
            for (int i = 0; i < ITERATIONS; i++) {
                Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
                byte[] bytes = frame(kind, random);
                int outcome = throwAt(t, bytes, kind);
                outcomes.computeIfAbsent(kind, k -> new int[3])[outcome]++;
                if (i % 25 == 0) {
                    byte[] data = new byte[1 + random.nextInt(64)];
                    random.nextBytes(data);
                    goodAppends.add(good.append("good", ExpectedVersion.ANY, List.of(EventData.of("t", data)))
                            .get(10, TimeUnit.SECONDS));
                    goodData.add(data);
                    good.ping().get(10, TimeUnit.SECONDS);
                }
            }
            // The well-behaved client's events are all there, byte for byte, in order.
            var page = good.readStream("good", 0, 4096, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS);
            assertEquals(goodAppends.size(), page.events().size());
            for (int i = 0; i < goodData.size(); i++) {
                RecordedEvent e = page.events().get(i);
                assertEquals(goodAppends.get(i).firstPosition(), e.position());
                assertArrayEquals(goodData.get(i), e.data());
            }
            // Everything a bad connection held was given back.
            assertTrue(t.server.awaitState((conns, subs) -> conns == 1 && subs == 0, 10_000),
                    "only the good connection is left: " + t.server.connectionCount());
            good.close();
            assertTrue(t.server.awaitState((conns, subs) -> conns == 0, 10_000));
            assertEquals(0, t.server.requestBytesInUse());
            // Each kind was exercised, and the oversized ones were answered before the close.
            for (Kind k : Kind.values()) {
                assertTrue(outcomes.containsKey(k), "kind not exercised: " + k);
            }
            assertEquals(0, outcomes.get(Kind.HUGE_LENGTH)[1] + outcomes.get(Kind.HUGE_LENGTH)[2]);
            assertEquals(0, outcomes.get(Kind.LENGTH_JUST_OVER)[1] + outcomes.get(Kind.LENGTH_JUST_OVER)[2]);
            assertTrue(outcomes.get(Kind.INVALID_FIELDS)[2] > 0, "valid frames with invalid fields keep the connection");
        }
    }

    /**
     * Sends {@code bytes} on a fresh connection, half-closes it and reads until the server closes.
     *
     * @return 0 the server answered with a connection-level error and closed, 1 it closed without
     *         a connection-level error (cut input), 2 it answered requests and closed at our end of stream
     */
    private static int throwAt(TestServer t, byte[] bytes, Kind kind) throws IOException {
        try (RawConnection raw = new RawConnection(t.socket)) {
            try {
                raw.writeBytes(bytes);
                raw.shutdownOutput();
            } catch (IOException e) {
                // The server may close first (it refused a length before we finished writing).
            }
            boolean connectionError = false;
            boolean answers = false;
            while (true) {
                Response r;
                try {
                    r = raw.next();
                } catch (IOException e) {
                    break; // reset by peer
                }
                if (r == null) {
                    break;
                }
                if (r.getId() == 0 && r.hasError()) {
                    connectionError = true;
                    if (kind == Kind.HUGE_LENGTH || kind == Kind.LENGTH_JUST_OVER) {
                        assertEquals(io.ringstore.protocol.v1.ErrorCode.FRAME_TOO_LARGE, r.getError().getCode());
                    } else if (kind != Kind.RANDOM_BYTES) {
                        assertNotEquals(io.ringstore.protocol.v1.ErrorCode.FRAME_TOO_LARGE, r.getError().getCode(), kind.name());
                    }
                } else {
                    answers = true;
                }
            }
            return connectionError ? 0 : answers ? 2 : 1;
        }
    }

    private static byte[] frame(Kind kind, Random random) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (kind) {
            case RANDOM_BYTES -> {
                byte[] b = new byte[random.nextInt(300)];
                random.nextBytes(b);
                out.write(b);
            }
            case TRUNCATED_VARINT -> {
                // Continuation bits set, low bits small: a length within the limit that never ends.
                out.write(0x80 | random.nextInt(128));
                int n = random.nextInt(3);
                for (int i = 0; i < n; i++) {
                    out.write(0x80);
                }
            }
            case HUGE_LENGTH -> varint(out, MAX_FRAME + 1L + (random.nextLong() >>> 30));
            case LENGTH_JUST_OVER -> varint(out, MAX_FRAME + 1);
            case LONG_VARINT -> {
                for (int i = 0; i < 6 + random.nextInt(6); i++) {
                    out.write(0x80);
                }
                out.write(0);
            }
            case TRUNCATED_BODY -> {
                byte[] body = validRequest(random).toByteArray();
                varint(out, body.length + 1 + random.nextInt(100));
                out.write(body);
            }
            case RANDOM_BODY -> {
                byte[] b = new byte[random.nextInt(200)];
                random.nextBytes(b);
                varint(out, b.length);
                out.write(b);
            }
            case MUTATED_REQUEST -> {
                byte[] body = validRequest(random).toByteArray();
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips && body.length > 0; i++) {
                    body[random.nextInt(body.length)] ^= (byte) (1 << random.nextInt(8));
                }
                varint(out, body.length);
                out.write(body);
            }
            case INVALID_FIELDS -> {
                for (int i = 0; i < 1 + random.nextInt(4); i++) {
                    byte[] body = invalidRequest(random, i + 1).toByteArray();
                    varint(out, body.length);
                    out.write(body);
                }
            }
            case WRONG_WIRE_TYPES -> {
                // Field numbers of Request with other wire types: fixed64 where a varint is, varint where a message is.
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                CodedOutputStream c = CodedOutputStream.newInstance(body);
                c.writeFixed64(1, random.nextLong());
                c.writeUInt64(2 + random.nextInt(7), random.nextLong());
                c.writeString(1, "not an id");
                c.flush();
                varint(out, body.size());
                out.write(body.toByteArray());
            }
        }
        return out.toByteArray();
    }

    private static Request validRequest(Random random) {
        Request.Builder r = Request.newBuilder().setId(1 + random.nextInt(1000));
        return switch (random.nextInt(5)) {
            case 0 -> r.setAppend(AppendRequest.newBuilder().setStream("fuzz-" + random.nextInt(3))
                    .addEvents(NewEvent.newBuilder().setType("t").setData(ByteString.copyFromUtf8("x")))).build();
            case 1 -> r.setReadStream(ReadStreamRequest.newBuilder().setStream("good").setMaxCount(5)).build();
            case 2 -> r.setReadAll(ReadAllRequest.newBuilder().setMaxCount(3)).build();
            case 3 -> r.setStatus(StatusRequest.getDefaultInstance()).build();
            default -> r.setPing(PingRequest.newBuilder().setPayload(ByteString.copyFromUtf8("p"))).build();
        };
    }

    private static Request invalidRequest(Random random, long id) {
        Request.Builder r = Request.newBuilder().setId(id);
        NewEvent ok = NewEvent.newBuilder().setType("t").build();
        return switch (random.nextInt(12)) {
            case 0 -> r.setAppend(AppendRequest.newBuilder().setStream("").addEvents(ok)).build();
            case 1 -> r.setAppend(AppendRequest.newBuilder().setStream("$reserved").addEvents(ok)).build();
            case 2 -> r.setAppend(AppendRequest.newBuilder().setStream("s")).build();
            case 3 -> r.setAppend(AppendRequest.newBuilder().setStream("s").addEvents(NewEvent.newBuilder()
                    .setType("t").setEventId(ByteString.copyFrom(new byte[5])))).build();
            case 4 -> r.setAppend(AppendRequest.newBuilder().setStream("s").addEvents(NewEvent.newBuilder())).build();
            case 5 -> r.setAppend(AppendRequest.newBuilder().setStream("s").setExpectedStateValue(99).addEvents(ok)).build();
            case 6 -> r.setAppend(AppendRequest.newBuilder().setStream("s").setExpectedVersion(-5L).addEvents(ok)).build();
            case 7 -> r.setReadStream(ReadStreamRequest.newBuilder().setStream("good").setDirectionValue(7)).build();
            case 8 -> r.setReadStream(ReadStreamRequest.newBuilder().setStream("good").setDirection(Direction.FORWARD)
                    .setFromVersion(-3)).build();
            case 9 -> r.setReadAll(ReadAllRequest.newBuilder().setFromPosition(-1L)).build();
            case 10 -> r.setSubscribe(SubscribeRequest.newBuilder().setStream("$all").setFromVersion(2)).build();
            default -> random.nextBoolean()
                    ? r.setUnsubscribe(UnsubscribeRequest.newBuilder().setSubscriptionId(12345)).build()
                    : r.setSubscribe(SubscribeRequest.newBuilder().setStream("good").setAfterPosition(3)).build();
        };
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
