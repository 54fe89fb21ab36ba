package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.client.Subscription;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.protocol.v1.MultiAppendRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.read.Direction;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.writer.StreamAppend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-stream append (MultiAppendRequest, issue 19) through a real socket, and the
 * client's blocking append that reads its own answer.
 */
class MultiStreamAppendTest {
    @TempDir
    Path dir;

    private static EventData event(String s) {
        return EventData.of("t", s.getBytes(StandardCharsets.UTF_8));
    }

    private static EventData event(String s, byte id) {
        byte[] eventId = new byte[16];
        eventId[0] = id;
        eventId[15] = 7;
        return new EventData(eventId, "t", s.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return e.getCause();
    }

    @Test
    void eachEntryHasItsOwnExpectedVersionAndOnlyAWrongOneFails() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            c.append("a", ExpectedVersion.NO_STREAM, List.of(event("a0"), event("a1"))).join();
            long forcesBefore = t.store.status().writer().forces();
            List<CompletableFuture<AppendResult>> r = c.appendAll(List.of(
                    new StreamAppend("a", ExpectedVersion.exactly(1), List.of(event("a2"), event("a3"))),
                    new StreamAppend("b", ExpectedVersion.NO_STREAM, List.of(event("b0"))),
                    new StreamAppend("c", ExpectedVersion.exactly(5), List.of(event("c0"))), // wrong: c is new
                    new StreamAppend("$bad", ExpectedVersion.ANY, List.of(event("x"))), // reserved name
                    new StreamAppend("a", ExpectedVersion.exactly(3), List.of(event("a4"))))); // sees entry 1
            assertEquals(5, r.size());
            assertEquals(2, r.get(0).join().firstVersion());
            assertEquals(3, r.get(0).join().lastVersion());
            assertEquals(0, r.get(1).join().firstVersion());
            WrongExpectedVersionException wrong = assertInstanceOf(WrongExpectedVersionException.class, failure(r.get(2)));
            assertEquals(-1, wrong.currentVersion());
            RingStoreException invalid = assertInstanceOf(RingStoreException.class, failure(r.get(3)));
            assertEquals(ErrorCode.INVALID_REQUEST, invalid.code());
            assertEquals(4, r.get(4).join().firstVersion());
            // The written entries went to the writer as one queue element: one batch, one force.
            assertEquals(1, t.store.status().writer().forces() - forcesBefore);

            StreamPage a = c.readStream("a", 0, 100, Direction.FORWARD).join();
            assertEquals(List.of("a0", "a1", "a2", "a3", "a4"), a.events().stream()
                    .map(e -> new String(e.data(), StandardCharsets.UTF_8)).toList());
            assertEquals(1, c.readStream("b", 0, 100, Direction.FORWARD).join().events().size());
            RingStoreException noC = assertInstanceOf(RingStoreException.class,
                    failure(c.readStream("c", 0, 100, Direction.FORWARD)));
            assertEquals(ErrorCode.STREAM_NOT_FOUND, noC.code());
        }
    }

    @Test
    void aRetryWithTheSameEventIdsIsAnsweredWithTheOriginalVersions() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            List<StreamAppend> request = List.of(
                    new StreamAppend("x", ExpectedVersion.NO_STREAM, List.of(event("x0", (byte) 1), event("x1", (byte) 2))),
                    new StreamAppend("y", ExpectedVersion.NO_STREAM, List.of(event("y0", (byte) 3))));
            List<AppendResult> first = c.appendAll(request).stream().map(CompletableFuture::join).toList();
            assertFalse(first.get(0).replayed());
            // The retry's expected versions (NO_STREAM) would fail as new appends; as retries they match.
            List<AppendResult> again = c.appendAll(request).stream().map(CompletableFuture::join).toList();
            for (int i = 0; i < 2; i++) {
                assertTrue(again.get(i).replayed(), "entry " + i + " replayed");
                assertEquals(first.get(i).firstVersion(), again.get(i).firstVersion());
                assertEquals(first.get(i).lastPosition(), again.get(i).lastPosition());
            }
            assertEquals(2, c.readStream("x", 0, 100, Direction.FORWARD).join().events().size());
            assertEquals(1, c.readStream("y", 0, 100, Direction.FORWARD).join().events().size());
        }
    }

    @Test
    void aRequestWithoutEntriesIsInvalidAsAWhole() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            raw.send(Request.newBuilder().setId(9).setMultiAppend(MultiAppendRequest.getDefaultInstance()).build());
            Response r = raw.next();
            assertEquals(9, r.getId());
            assertEquals(io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST, r.getError().getCode());
        }
    }

    @Test
    void blockingCallersAsyncCallersAndASubscriptionShareOneConnection() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            int threads = 4;
            int each = 150;
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                String stream = "blocking-" + w;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            AppendResult r = c.appendAndWait(stream, i == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(i - 1L), List.of(event("e" + i)));
                            if (r.lastVersion() != i) {
                                throw new AssertionError(stream + " got version " + r.lastVersion() + " for " + i);
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            // Async appends and a live subscription at the same time: whoever reads must complete them.
            AtomicInteger seen = new AtomicInteger();
            CountDownLatch all = new CountDownLatch(1);
            int asyncCount = 200;
            Subscription sub = c.subscribe("async", new SubscribeFrom.Start(), new SubscriptionListener() {
                @Override
                public void onEvent(io.ringstore.client.RecordedEvent e) {
                    if (seen.incrementAndGet() == asyncCount) {
                        all.countDown();
                    }
                }
            });
            List<CompletableFuture<AppendResult>> async = new ArrayList<>();
            for (int i = 0; i < asyncCount; i++) {
                async.add(c.append("async", ExpectedVersion.ANY, List.of(event("s" + i))));
            }
            for (Thread w : workers) {
                w.join(15_000);
            }
            assertTrue(errors.isEmpty(), () -> "blocking appends failed: " + errors);
            for (CompletableFuture<AppendResult> f : async) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertTrue(all.await(10, TimeUnit.SECONDS), "subscription saw " + seen.get() + " of " + asyncCount);
            sub.close();
            // After the subscription: a blocking caller leads again.
            assertEquals(each, c.appendAndWait("blocking-0", ExpectedVersion.exactly(each - 1), List.of(event("last")))
                    .lastVersion());
        }
    }
}
