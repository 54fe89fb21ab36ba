package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.Subscription;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.protocol.v1.SubscriptionUpdate;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Subscriptions: catch-up then live with nothing lost or repeated, slow subscribers, resume. */
class SubscriptionTest {
    private static final long WAIT_SECONDS = 30;

    @TempDir
    Path dir;

    /** Collects a subscription's events and markers in arrival order. */
    private static final class Collector implements SubscriptionListener {
        final LinkedBlockingQueue<RecordedEvent> events = new LinkedBlockingQueue<>();
        final List<RecordedEvent> all = java.util.Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Long> caughtUp = new CompletableFuture<>();
        final AtomicInteger afterCaughtUp = new AtomicInteger();
        final CompletableFuture<RuntimeException> ended = new CompletableFuture<>();

        @Override
        public void onEvent(RecordedEvent e) {
            if (caughtUp.isDone()) {
                afterCaughtUp.incrementAndGet();
            }
            all.add(e);
            events.add(e);
        }

        @Override
        public void onCaughtUp(long position) {
            caughtUp.complete(position);
        }

        @Override
        public void onEnd(RuntimeException error) {
            ended.complete(error);
        }

        /** Waits until every position in {@code expected} was delivered. */
        void awaitPositions(Set<Long> expected) throws InterruptedException {
            Set<Long> seen = new TreeSet<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!seen.containsAll(expected)) {
                RecordedEvent e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (e == null) {
                    throw new AssertionError("timed out: delivered " + seen.size() + " of " + expected.size());
                }
                seen.add(e.position());
            }
        }
    }

    @Test
    void aSubscriberJoiningMidStreamSeesEveryEventExactlyOnceAcrossTheSwitch() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            Set<Long> acked = new ConcurrentSkipListSet<>();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch before = new CountDownLatch(1500);
            java.util.concurrent.atomic.AtomicReference<CountDownLatch> afterSwitch = new java.util.concurrent.atomic.AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                RingStoreClient c = t.client();
                int writer = w;
                writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                    Semaphore window = new Semaphore(16);
                    int i = 0;
                    while (!stop.get()) {
                        window.acquireUninterruptibly();
                        String stream = "w" + writer + "-" + (i % 5);
                        c.append(stream, ExpectedVersion.ANY, List.of(EventData.of("t",
                                ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8)))).whenComplete((r, e) -> {
                                    if (r != null) {
                                        acked.add(r.firstPosition());
                                        before.countDown();
                                        CountDownLatch l = afterSwitch.get();
                                        if (l != null) {
                                            l.countDown();
                                        }
                                    }
                                    window.release();
                                });
                        i++;
                    }
                    window.acquireUninterruptibly(16);
                }));
            }
            assertTrue(before.await(WAIT_SECONDS, TimeUnit.SECONDS), "writers got going");

            RingStoreClient subscriber = t.client();
            Collector all = new Collector();
            Subscription allSub = subscriber.subscribe("$all", SubscribeFrom.START, all);
            // One subscription per stream: each crosses its own catch-up/live switch while writes go on.
            Map<String, Collector> perStream = new HashMap<>();
            List<Subscription> streamSubs = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                for (int k = 0; k < 5; k++) {
                    Collector c = new Collector();
                    perStream.put("w" + w + "-" + k, c);
                    streamSubs.add(subscriber.subscribe("w" + w + "-" + k, SubscribeFrom.START, c));
                }
            }
            long joinedAt = allSub.confirmed().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(joinedAt > 0);
            all.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            for (Collector c : perStream.values()) {
                c.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            // Keep writing well past the switch to live.
            CountDownLatch after = new CountDownLatch(1500);
            afterSwitch.set(after);
            assertTrue(after.await(WAIT_SECONDS, TimeUnit.SECONDS));
            stop.set(true);
            for (Thread w : writers) {
                w.join(WAIT_SECONDS * 1000);
            }

            all.awaitPositions(acked);
            // Nothing beyond what was acknowledged (fresh store) and nothing twice, in log order.
            List<Long> positions = all.all.stream().map(RecordedEvent::position).toList();
            assertEquals(acked.size(), positions.size(), "each acknowledged event delivered once");
            for (int i = 1; i < positions.size(); i++) {
                assertTrue(positions.get(i) > positions.get(i - 1), "log order at " + i);
            }
            assertEquals(new TreeSet<>(acked), new TreeSet<>(positions));
            assertTrue(all.afterCaughtUp.get() >= 1500, "live events after the switch: " + all.afterCaughtUp.get());
            Map<String, Long> nextVersion = new HashMap<>();
            for (RecordedEvent e : all.all) {
                long expect = nextVersion.getOrDefault(e.stream(), 0L);
                assertEquals(expect, e.version(), "versions of " + e.stream() + " have no gap");
                nextVersion.put(e.stream(), expect + 1);
            }

            // Each stream subscription got exactly its stream, every version once.
            for (Map.Entry<String, Collector> entry : perStream.entrySet()) {
                String stream = entry.getKey();
                Collector one = entry.getValue();
                Set<Long> streamPositions = new TreeSet<>();
                all.all.stream().filter(e -> e.stream().equals(stream)).forEach(e -> streamPositions.add(e.position()));
                one.awaitPositions(streamPositions);
                List<Long> versions = one.all.stream().map(RecordedEvent::version).toList();
                assertEquals(streamPositions.size(), versions.size(), stream);
                for (int i = 0; i < versions.size(); i++) {
                    assertEquals(i, versions.get(i), stream);
                    assertEquals(stream, one.all.get(i).stream());
                }
                assertTrue(one.afterCaughtUp.get() > 0, stream + " also went live");
            }

            allSub.close();
            streamSubs.forEach(Subscription::close);
            assertNull(allSub.ended().get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(t.server.awaitState((conns, subs) -> subs == 0, WAIT_SECONDS * 1000));
        }
    }

    @Test
    void anAppendInsideTheSwitchWindowIsDeliveredOnce() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            c.append("s", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {0}))).join();
            AtomicInteger calls = new AtomicInteger();
            io.ringstore.server.Subscription.betweenSnapshotAndStreamRead = () -> {
                // The first page's read will include this event; the $all tail after it starts
                // before it. Delivered twice unless the switch is exact.
                if (calls.getAndIncrement() == 0) {
                    t.store.append("s", ExpectedVersion.exactly(0), List.of(EventData.of("t", new byte[] {1}))).join();
                }
            };
            try {
                Collector got = new Collector();
                c.subscribe("s", SubscribeFrom.START, got);
                got.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
                AppendResult live = c.append("s", ExpectedVersion.exactly(1), List.of(EventData.of("t", new byte[] {2}))).join();
                got.awaitPositions(Set.of(live.firstPosition()));
                assertEquals(List.of(0L, 1L, 2L), got.all.stream().map(RecordedEvent::version).toList());
            } finally {
                io.ringstore.server.Subscription.betweenSnapshotAndStreamRead = null;
            }
        }
    }

    @Test
    void subscriptionsStartWhereAskedAndRefuseNonsense() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            List<AppendResult> r = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                r.add(c.append("s", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {(byte) i}))).join());
            }
            Collector fromVersion = new Collector();
            c.subscribe("s", SubscribeFrom.fromVersion(4), fromVersion);
            Collector after = new Collector();
            c.subscribe("$all", SubscribeFrom.afterPosition(r.get(2).firstPosition()), after);
            Collector end = new Collector();
            Subscription endSub = c.subscribe("$all", SubscribeFrom.END, end);
            Collector missing = new Collector();
            c.subscribe("later", SubscribeFrom.START, missing);
            endSub.confirmed().get(WAIT_SECONDS, TimeUnit.SECONDS);
            end.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            missing.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            AppendResult live = c.append("later", ExpectedVersion.NO_STREAM, List.of(EventData.of("t", new byte[] {9}))).join();

            fromVersion.awaitPositions(Set.of(r.get(4).firstPosition(), r.get(5).firstPosition()));
            assertEquals(List.of(4L, 5L), fromVersion.all.stream().map(RecordedEvent::version).toList());
            after.awaitPositions(Set.of(live.firstPosition()));
            assertEquals(List.of(r.get(3).firstPosition(), r.get(4).firstPosition(), r.get(5).firstPosition(),
                    live.firstPosition()), after.all.stream().map(RecordedEvent::position).toList());
            end.awaitPositions(Set.of(live.firstPosition()));
            assertEquals(1, end.all.size(), "from the end: only what came after");
            missing.awaitPositions(Set.of(live.firstPosition()));
            assertEquals(1, missing.all.size(), "a stream that did not exist yet is followed live");

            Collector bad = new Collector();
            c.subscribe("$all", SubscribeFrom.afterPosition(r.get(0).firstPosition() + 4), bad);
            assertEquals(ErrorCode.INVALID_REQUEST,
                    assertInstanceOf(RingStoreException.class, bad.ended.get(WAIT_SECONDS, TimeUnit.SECONDS)).code());
            Collector bad2 = new Collector();
            c.subscribe("$all", SubscribeFrom.fromVersion(3), bad2);
            assertEquals(ErrorCode.INVALID_REQUEST,
                    assertInstanceOf(RingStoreException.class, bad2.ended.get(WAIT_SECONDS, TimeUnit.SECONDS)).code());
        }
    }

    @Test
    void aSubscriberThatStopsReadingIsToldAndDroppedAndResumesWithoutGapOrDuplicate() throws Exception {
        int bufferBytes = 4096;
        try (TestServer t = TestServer.start(dir, c -> c.withSubscriberBuffer(bufferBytes, 300))) {
            RingStoreClient writer = t.client();
            Set<Long> positions = new TreeSet<>();
            List<Long> received = new ArrayList<>();
            Response end;
            try (RawConnection raw = new RawConnection(t.socket)) {
                raw.send(Request.newBuilder().setId(5).setSubscribe(SubscribeRequest.newBuilder().setStream("$all")
                        .setFromStart(true)).build());
                assertTrue(t.server.awaitState((conns, subs) -> subs == 1, WAIT_SECONDS * 1000));
                // Not reading: append until the socket buffers and the subscriber's buffer are full
                // and stay full long enough (however large this kernel's socket buffers are).
                byte[] payload = new byte[400];
                int appended = 0;
                do {
                    List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
                    for (int i = 0; i < 1000; i++, appended++) {
                        payload[0] = (byte) i;
                        fs.add(writer.append("s" + (i % 3), ExpectedVersion.ANY, List.of(EventData.of("t", payload.clone()))));
                    }
                    for (var f : fs) {
                        positions.add(f.get(WAIT_SECONDS, TimeUnit.SECONDS).firstPosition());
                    }
                    assertTrue(appended < 200_000, "never dropped");
                } while (!t.server.awaitState((conns, subs) -> subs == 0, 1_000));
                while (true) {
                    Response r = raw.next();
                    assertNotNull(r, "the connection stays open after the drop");
                    assertEquals(5, r.getId());
                    if (r.hasError()) {
                        end = r;
                        break;
                    }
                    if (r.getSubscription().getKindCase() == SubscriptionUpdate.KindCase.EVENT) {
                        received.add(r.getSubscription().getEvent().getPosition());
                    }
                }
                raw.send(Request.newBuilder().setId(6).setPing(io.ringstore.protocol.v1.PingRequest.getDefaultInstance()).build());
                assertEquals(6, raw.next().getId());
            }
            int total = positions.size();
            assertEquals(io.ringstore.protocol.v1.ErrorCode.SUBSCRIBER_TOO_SLOW, end.getError().getCode());
            assertTrue(received.size() < total, "dropped before the end: got " + received.size());
            assertTrue(end.getError().hasResumeAfterPosition());
            long resume = end.getError().getResumeAfterPosition();
            assertEquals(received.getLast(), resume, "resume from the last event received");

            // Resume from there: the rest, exactly once.
            Collector rest = new Collector();
            Subscription sub = writer.subscribe("$all", SubscribeFrom.afterPosition(resume), rest);
            Set<Long> missing = new TreeSet<>(positions);
            missing.removeAll(received);
            rest.awaitPositions(missing);
            rest.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<Long> all = new ArrayList<>(received);
            rest.all.forEach(e -> all.add(e.position()));
            assertEquals(new ArrayList<>(positions), all, "every event once, in order, across the drop");
            sub.close();
        }
    }
}
