package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.Direction;
import io.ringstore.protocol.v1.ErrorCode;
import io.ringstore.protocol.v1.InvalidRequestDetail;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusRequest;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.protocol.v1.UnsubscribeRequest;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What ringstore.proto's comments promise, point by point (issue 17, section 3), on a real socket. */
class ProtocolContractTest {
    @TempDir
    Path dir;

    private static Request append(long id, String stream, NewEvent... events) {
        return Request.newBuilder().setId(id).setAppend(AppendRequest.newBuilder().setStream(stream).addAllEvents(List.of(events))).build();
    }

    private static NewEvent event(String type, String data, byte[] id) {
        NewEvent.Builder b = NewEvent.newBuilder().setType(type).setData(ByteString.copyFromUtf8(data));
        if (id != null) {
            b.setEventId(ByteString.copyFrom(id));
        }
        return b.build();
    }

    private static byte[] id(int n) {
        byte[] b = new byte[16];
        b[15] = (byte) n;
        b[6] = 0x40;
        return b;
    }

    private static Response ok(Response r) {
        assertFalse(r.hasError(), () -> "unexpected error: " + r.getError());
        return r;
    }

    private static void assertError(ErrorCode code, long id, Response r) {
        assertEquals(id, r.getId(), "answer id");
        assertEquals(code, r.getError().getCode(), () -> "got " + r);
    }

    @Test
    void requestIdZeroAndIdsStillInFlightAreRefusedAndNotExecuted() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            long before = t.store.committedPosition();
            raw.send(append(0, "a", event("t", "0", null)));
            assertError(ErrorCode.REQUEST_ID_INVALID, 0, raw.next());
            assertEquals(before, t.store.committedPosition(), "id 0 executed nothing");

            // An append held at the force is in flight; a second request with its id is refused at once.
            CountDownLatch held = t.io.hold();
            raw.send(append(5, "a", event("first", "1", null)));
            assertTrue(held.await(10, TimeUnit.SECONDS));
            raw.send(append(5, "a", event("duplicate", "2", null)));
            assertError(ErrorCode.REQUEST_ID_INVALID, 5, raw.next());
            t.io.open();
            assertEquals(0, ok(raw.next()).getAppend().getFirstVersion());
            assertEquals(1, t.store.readStream("a", 0, 10, io.ringstore.read.Direction.FORWARD).events().size(),
                    "the refused duplicate wrote nothing");
            // Once answered, the id may be used again.
            raw.send(append(5, "a", event("again", "3", null)));
            assertEquals(1, ok(raw.next()).getAppend().getFirstVersion());

            // A subscription holds its id until it ends; unsubscribe's answer carries its own id.
            raw.send(Request.newBuilder().setId(7).setSubscribe(SubscribeRequest.newBuilder().setStream("$all").setFromEnd(true)).build());
            assertTrue(ok(raw.next()).getSubscription().hasConfirmed());
            assertTrue(ok(raw.next()).getSubscription().hasCaughtUp());
            raw.send(Request.newBuilder().setId(7).setPing(PingRequest.getDefaultInstance()).build());
            assertError(ErrorCode.REQUEST_ID_INVALID, 7, raw.next());
            raw.send(Request.newBuilder().setId(8).setUnsubscribe(UnsubscribeRequest.newBuilder().setSubscriptionId(7)).build());
            Response unsubscribed = ok(raw.next());
            assertEquals(8, unsubscribed.getId());
            assertTrue(unsubscribed.hasUnsubscribe());
            raw.send(Request.newBuilder().setId(7).setPing(PingRequest.getDefaultInstance()).build());
            assertTrue(ok(raw.next()).hasPing(), "the ended subscription's id is free again");
        }
    }

    @Test
    void eachKindOfInvalidRequestCanBeToldApart() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c.withMaxSubscriptions(2)); RawConnection raw = new RawConnection(t.socket)) {
            raw.send(Request.newBuilder().setId(1).build());
            Response empty = raw.next();
            assertError(ErrorCode.INVALID_REQUEST, 1, empty);
            assertEquals(InvalidRequestDetail.EMPTY_REQUEST, empty.getError().getInvalidDetail());

            raw.send(Request.newBuilder().setId(2).setUnsubscribe(UnsubscribeRequest.newBuilder().setSubscriptionId(99)).build());
            assertEquals(InvalidRequestDetail.NO_SUCH_SUBSCRIPTION, raw.next().getError().getInvalidDetail());

            raw.send(append(3, "s", event("t", "1", null)));
            long at = ok(raw.next()).getAppend().getFirstPosition();
            assertEquals(64, at, "the first event of a new log is at 64");
            raw.send(Request.newBuilder().setId(4).setReadAll(ReadAllRequest.newBuilder().setFromPosition(at + 1)).build());
            assertEquals(InvalidRequestDetail.NOT_AN_EVENT_POSITION, raw.next().getError().getInvalidDetail());
            raw.send(Request.newBuilder().setId(5).setReadAll(ReadAllRequest.newBuilder().setFromPosition(at)).build());
            assertEquals(at, ok(raw.next()).getReadAll().getEvents(0).getPosition(), "from_position includes its event");

            raw.send(append(6, "$reserved", event("t", "1", null)));
            Response field = raw.next();
            assertEquals(ErrorCode.INVALID_REQUEST, field.getError().getCode());
            assertEquals(InvalidRequestDetail.INVALID_FIELD, field.getError().getInvalidDetail());

            for (long id = 10; id < 12; id++) {
                raw.send(Request.newBuilder().setId(id).setSubscribe(SubscribeRequest.newBuilder().setFromEnd(true)).build());
                assertTrue(ok(raw.next()).getSubscription().hasConfirmed());
                assertTrue(ok(raw.next()).getSubscription().hasCaughtUp());
            }
            raw.send(Request.newBuilder().setId(12).setSubscribe(SubscribeRequest.newBuilder().setFromEnd(true)).build());
            assertError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, 12, raw.next());

            // A frame that is not a Request: connection-level, id 0, then the close.
            raw.writeBytes(new byte[] {3, 0x0a, (byte) 0xff, (byte) 0xff});
            Response bad = raw.next();
            assertError(ErrorCode.INVALID_REQUEST, 0, bad);
            assertEquals(InvalidRequestDetail.MALFORMED_FRAME, bad.getError().getInvalidDetail());
            assertNull(raw.next());
        }
    }

    @Test
    void idempotentRetriesReplayAndEveryOtherReuseOfAnIdIsEventIdConflict() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            raw.send(append(1, "s", event("t", "original-1", id(1)), event("t", "original-2", id(2))));
            Response first = ok(raw.next());
            raw.send(append(2, "s", event("t", "changed-1", id(1)), event("t", "changed-2", id(2))));
            Response retry = ok(raw.next());
            assertTrue(retry.getAppend().getReplayed(), "same ids, same stream: replayed");
            assertEquals(first.getAppend().getFirstPosition(), retry.getAppend().getFirstPosition());
            var stored = t.store.readStream("s", 0, 10, io.ringstore.read.Direction.FORWARD).events();
            assertEquals(2, stored.size(), "nothing written again");
            assertEquals("original-1", stored.get(0).getData().toStringUtf8(), "the retry's new data was dropped");

            raw.send(append(3, "other", event("t", "x", id(1)), event("t", "y", id(2))));
            assertError(ErrorCode.EVENT_ID_CONFLICT, 3, raw.next());
            raw.send(append(4, "s", event("t", "x", id(1)), event("t", "new", id(3))));
            assertError(ErrorCode.EVENT_ID_CONFLICT, 4, raw.next());
            raw.send(append(5, "s", event("t", "x", id(2)), event("t", "y", id(1))));
            assertError(ErrorCode.EVENT_ID_CONFLICT, 5, raw.next());
            assertEquals(2, t.store.readStream("s", 0, 10, io.ringstore.read.Direction.FORWARD).events().size());
            assertFalse(t.store.status().streams() > 1, "the conflicting append to another stream created nothing");

            // An expected version the original met replays; another one is WRONG_EXPECTED_VERSION.
            raw.send(Request.newBuilder().setId(6).setAppend(AppendRequest.newBuilder().setStream("s").setExpectedState(
                    io.ringstore.protocol.v1.ExpectedState.EXPECT_NO_STREAM).addEvents(event("t", "x", id(1))).addEvents(event("t", "y", id(2)))).build());
            assertTrue(ok(raw.next()).getAppend().getReplayed());
            raw.send(Request.newBuilder().setId(7).setAppend(AppendRequest.newBuilder().setStream("s").setExpectedVersion(5)
                    .addEvents(event("t", "x", id(1))).addEvents(event("t", "y", id(2)))).build());
            assertError(ErrorCode.WRONG_EXPECTED_VERSION, 7, raw.next());
        }
    }

    @Test
    void backwardReadsStartAtTheEndWhenUnsetAndPagingEndsAtEndOfStream() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            for (int i = 0; i < 5; i++) {
                t.store.append("s", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {(byte) i}))).join();
            }
            List<Long> versions = new ArrayList<>();
            ReadStreamRequest.Builder r = ReadStreamRequest.newBuilder().setStream("s").setDirection(Direction.BACKWARD).setMaxCount(2);
            for (int page = 0; page < 10; page++) {
                raw.send(Request.newBuilder().setId(1).setReadStream(r).build());
                ReadStreamResponse p = ok(raw.next()).getReadStream();
                p.getEventsList().forEach(e -> versions.add(e.getVersion()));
                if (p.getEndOfStream()) {
                    assertEquals(-1, p.getNextVersion(), "done: next_version is -1");
                    break;
                }
                assertTrue(p.getNextVersion() >= 0);
                r.setFromVersion(p.getNextVersion());
            }
            assertEquals(List.of(4L, 3L, 2L, 1L, 0L), versions);
            raw.send(Request.newBuilder().setId(2).setReadStream(ReadStreamRequest.newBuilder().setStream("s")
                    .setDirection(Direction.BACKWARD).setFromVersion(0)).build());
            assertEquals(1, ok(raw.next()).getReadStream().getEventsCount(), "an explicit 0 reads version 0 alone");
            raw.send(Request.newBuilder().setId(3).setReadStream(ReadStreamRequest.newBuilder().setStream("s")).build());
            ReadStreamResponse forward = ok(raw.next()).getReadStream();
            assertEquals(5, forward.getEventsCount(), "forward, unset: from 0");
            assertTrue(forward.getEndOfStream());
            assertEquals(-1, forward.getNextVersion());
        }
    }

    @Test
    void maxCountAboveTheLimitIsClampedAndTheLimitsAreInTheStatus() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            List<EventData> batch = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                batch.add(EventData.of("t", new byte[] {1}));
            }
            for (int i = 0; i < 5; i++) {
                t.store.append("s", ExpectedVersion.ANY, batch).join();
            }
            raw.send(Request.newBuilder().setId(1).setReadStream(ReadStreamRequest.newBuilder().setStream("s").setMaxCount(100_000)).build());
            ReadStreamResponse p = ok(raw.next()).getReadStream();
            assertEquals(4096, p.getEventsCount(), "clamped to max_read_count, not refused");
            assertEquals(4096, p.getNextVersion());
            raw.send(Request.newBuilder().setId(2).setReadStream(ReadStreamRequest.newBuilder().setStream("s")).build());
            assertEquals(1000, ok(raw.next()).getReadStream().getEventsCount(), "0: the default count");

            raw.send(Request.newBuilder().setId(3).setStatus(StatusRequest.getDefaultInstance()).build());
            StatusResponse s = ok(raw.next()).getStatus();
            ServerConfig c = t.server.config();
            assertEquals(c.maxFrameBytes(), s.getMaxRequestBytes());
            assertEquals(4 << 20, s.getMaxEventBytes());
            assertEquals(c.maxResponseBytes(), s.getMaxResponseBytes());
            assertTrue(s.getMaxResponseBytes() > s.getReadPageBytes() + s.getMaxEventBytes());
            assertEquals(64, s.getMaxInFlight());
            assertEquals(64, s.getMaxSubscriptions());
            assertEquals(4096, s.getMaxReadCount());
            assertEquals(1000, s.getDefaultReadCount());
            assertEquals(c.readPageBytes(), s.getReadPageBytes());
            assertEquals(16_384, s.getIdempotencyWindowEvents());
        }
    }

    @Test
    void aNeverWrittenStreamIsCaughtUpAtOnceAndUnsubscribeIsAnsweredAfterTheLastEvent() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            raw.send(Request.newBuilder().setId(1).setSubscribe(SubscribeRequest.newBuilder().setStream("later")).build());
            assertTrue(ok(raw.next()).getSubscription().hasConfirmed());
            assertTrue(ok(raw.next()).getSubscription().hasCaughtUp(), "nothing stored: caught up at once");
            long at = t.store.append("later", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {9}))).join().firstPosition();
            Response e = ok(raw.next());
            assertEquals(1, e.getId());
            assertEquals(at, e.getSubscription().getEvent().getPosition());
            assertArrayEquals(new byte[] {9}, e.getSubscription().getEvent().getData().toByteArray());
            raw.send(Request.newBuilder().setId(2).setUnsubscribe(UnsubscribeRequest.newBuilder().setSubscriptionId(1)).build());
            Response end = ok(raw.next());
            assertEquals(2, end.getId(), "the unsubscribe's own id");
            assertTrue(end.hasUnsubscribe(), "no final message for the subscription itself: " + end);
        }
    }

    @Test
    void requestsReadBeforeABadFrameAreStillAnsweredAndAnEmptyEventIdGetsOneFromTheServer() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            CountDownLatch held = t.io.hold();
            raw.send(append(1, "s", event("t", "before the bad frame", null)));
            assertTrue(held.await(10, TimeUnit.SECONDS), "the append is in flight, held at the force");
            raw.writeBytes(new byte[] {3, 0x0a, (byte) 0xff, (byte) 0xff});
            Response first = raw.next();
            assertError(ErrorCode.INVALID_REQUEST, 0, first); // sent at once; the append is still held
            t.io.open();
            Response answered = ok(raw.next());
            assertEquals(1, answered.getId(), "the request read before the bad frame is answered before the close");
            assertEquals(0, answered.getAppend().getFirstVersion());
            assertNull(raw.next(), "then the connection is closed");
            var stored = t.store.readStream("s", 0, 10, io.ringstore.read.Direction.FORWARD).events();
            assertEquals(1, stored.size());
            assertEquals(16, stored.getFirst().getEventId().size(), "an empty event_id was replaced by a generated one");
        }
    }
}
