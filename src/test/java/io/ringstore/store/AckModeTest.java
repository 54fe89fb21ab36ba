package io.ringstore.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.TestReplicaProgress;
import io.ringstore.status.Led;
import io.ringstore.status.LedLogic;
import io.ringstore.status.LedPattern;
import io.ringstore.status.StoreSignals;
import io.ringstore.writer.AckOptions;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.Durability;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's acknowledgements in each ack mode, against a {@link TestReplicaProgress} the test
 * moves: a replica-mode append is acknowledged, and readable, only once the standbys hold its
 * batch; the writer keeps writing meanwhile; acks keep their order; the committed position never
 * passes what is held; a standby that does not come back fails appends with REPLICA_UNAVAILABLE
 * (the event stays in the log, and the error says so); solo acknowledges as local and says so.
 */
class AckModeTest {
    @TempDir
    Path dir;

    private static final long WAIT_SECONDS = 10;

    private StoreConfig config(AckMode mode, long timeoutMillis, long forceIntervalMillis) {
        StoreConfig c = StoreConfig.defaults(dir).withSegmentSize(1 << 20);
        return c.withWriter(c.writer().withForceIntervalMillis(forceIntervalMillis)
                .withAck(AckOptions.of(mode).withTimeoutMillis(timeoutMillis)));
    }

    private static List<EventData> event(String text) {
        return List.of(EventData.of("test", text.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<EventData> event(String text, byte[] id) {
        return List.of(new EventData(id, "test", text.getBytes(StandardCharsets.UTF_8), new byte[0]));
    }

    /** Events of {@code stream} a reader sees now (0 when it sees none). */
    private static int visible(RingStore store, String stream) {
        try {
            return store.readStream(stream, 0, 100, Direction.FORWARD).events().size();
        } catch (RingStoreException e) {
            assertEquals(ErrorCode.STREAM_NOT_FOUND, e.code(), e.getMessage());
            return 0;
        }
    }

    /** Waits until the writer has written past {@code before}; returns the published position. */
    private static long awaitWritten(RingStore store, long before) throws InterruptedException {
        long p = store.log().awaitPublishedBeyond(before, WAIT_SECONDS * 1000);
        assertTrue(p > before, "the writer did not write: published=" + p + " before=" + before);
        return p;
    }

    /** The future has not completed within a short while (a negative can only be shown so). */
    private static void assertWaiting(CompletableFuture<?> f) throws Exception {
        assertThrows(TimeoutException.class, () -> f.get(150, TimeUnit.MILLISECONDS));
    }

    private static RingStoreException failure(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
        return assertInstanceOf(RingStoreException.class, e.getCause());
    }

    @Test
    void replicaMemoryAcknowledgesOnlyOnceTheStandbyHoldsTheBatchAndWithoutAForce() throws Exception {
        // A force interval of a minute: any force in this test would be one on the ack path.
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 30_000, 60_000))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            store.setReplicaProgress(standby);
            long start = store.log().publishedPosition();
            CompletableFuture<AppendResult> f = store.append("a", ExpectedVersion.NO_STREAM, event("a0"));
            long end = awaitWritten(store, start);

            standby.setHeld(AckMode.REPLICA_MEMORY, end - 1);
            assertWaiting(f);
            assertEquals(start, store.committedPosition(), "nothing is committed before the standby holds it");
            assertEquals(0, visible(store, "a"));
            assertEquals(0, store.readAll(0, 10).records().size());
            assertEquals(1, store.ackStatus().waitingBatches());

            standby.setHeld(AckMode.REPLICA_MEMORY, end);
            AppendResult r = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.REPLICA_MEMORY, r.ackMode());
            assertFalse(r.solo());
            assertEquals(Durability.PERIODIC, r.durability(), "this board had not forced it");
            assertEquals(end, store.committedPosition());
            assertEquals(1, visible(store, "a"));
            assertEquals(0, store.writerStats().forces(), "replica-memory acknowledges without forcing");
            assertTrue(store.log().durablePosition() < end, "still unforced on this board");
        }
        // A clean stop forces what was acknowledged.
        try (RingStore again = RingStore.open(config(AckMode.LOCAL, 30_000, 60_000))) {
            assertEquals(1, visible(again, "a"));
        }
    }

    @Test
    void theWriterKeepsWritingWhileAcksWaitAndAcksKeepTheirOrder() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 30_000, 100))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            store.setReplicaProgress(standby);
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            long p0 = store.log().publishedPosition();
            CompletableFuture<AppendResult> a = store.append("a", ExpectedVersion.ANY, event("a"));
            // The callbacks' own futures: complete after each callback ran (a waiter on the append's
            // future can wake before its callbacks run; a full run once saw order without "c").
            CompletableFuture<AppendResult> aSeen = a.whenComplete((r, e) -> order.add("a"));
            long p1 = awaitWritten(store, p0);
            CompletableFuture<AppendResult> b = store.append("b", ExpectedVersion.ANY, event("b"));
            CompletableFuture<AppendResult> bSeen = b.whenComplete((r, e) -> order.add("b"));
            long p2 = awaitWritten(store, p1);
            CompletableFuture<AppendResult> c = store.append("c", ExpectedVersion.ANY, event("c"));
            CompletableFuture<AppendResult> cSeen = c.whenComplete((r, e) -> order.add("c"));
            long p3 = awaitWritten(store, p2);

            // Pipelining: all three batches are written while the first still waits.
            assertEquals(3, store.writerStats().events());
            assertEquals(3, store.writerStats().batches());
            assertEquals(3, store.ackStatus().waitingBatches());
            assertFalse(a.isDone() || b.isDone() || c.isDone());

            standby.setHeld(AckMode.REPLICA_MEMORY, p2);
            assertEquals("b", b.get(WAIT_SECONDS, TimeUnit.SECONDS).stream());
            assertTrue(a.isDone());
            aSeen.get(WAIT_SECONDS, TimeUnit.SECONDS);
            bSeen.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertWaiting(c);
            assertEquals(List.of("a", "b"), order);
            assertEquals(p2, store.committedPosition());
            assertEquals(1, visible(store, "b"));
            assertEquals(0, visible(store, "c"));

            standby.setHeld(AckMode.REPLICA_MEMORY, p3);
            c.get(WAIT_SECONDS, TimeUnit.SECONDS);
            cSeen.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of("a", "b", "c"), order);
            assertEquals(p3, store.committedPosition());
        }
    }

    @Test
    void theCommittedPositionAndReadsNeverPassWhatTheStandbyHolds() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 30_000, 50))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            store.setReplicaProgress(standby);
            long initial = store.committedPosition();
            AtomicReference<String> violation = new AtomicReference<>();
            AtomicLong samples = new AtomicLong();
            Thread reader = Thread.ofPlatform().name("test-reader").start(() -> {
                while (!Thread.currentThread().isInterrupted() && violation.get() == null) {
                    // Committed (and what a read returns) first, held after: held only grows.
                    long committed = store.committedPosition();
                    List<LogRecord> seen = store.readAll(0, 4096).records();
                    long held = Math.max(standby.held(AckMode.REPLICA_MEMORY), initial);
                    if (committed > held) {
                        violation.set("committed=" + committed + " held=" + held);
                    }
                    for (LogRecord r : seen) {
                        if (r.getPosition() >= held) {
                            violation.set("read an event the standby does not hold: position=" + r.getPosition()
                                    + " held=" + held);
                        }
                    }
                    samples.incrementAndGet();
                }
            });
            // The standby follows the published position slowly (a link's latency: 2 ms a step),
            // half the gap at a time, so there is always written, unheld log for a reader to see.
            Thread follower = Thread.ofPlatform().name("test-standby").start(() -> {
                long held = -1;
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        long published = store.log().awaitPublishedBeyond(held, 50);
                        if (published > held) {
                            Thread.sleep(2);
                            held = held < 0 ? published : held + Math.max(1, (published - held) / 2);
                            standby.setHeld(AckMode.REPLICA_MEMORY, held);
                        }
                    }
                } catch (InterruptedException e) {
                    // done
                }
            });
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                acks.add(store.append("s" + (i % 7), ExpectedVersion.ANY, event("e" + i)));
            }
            for (CompletableFuture<AppendResult> f : acks) {
                assertEquals(AckMode.REPLICA_MEMORY, f.get(WAIT_SECONDS, TimeUnit.SECONDS).ackMode());
            }
            follower.interrupt();
            follower.join();
            reader.interrupt();
            reader.join();
            assertEquals(null, violation.get());
            assertTrue(samples.get() > 10, "the reader sampled: " + samples.get());
            assertEquals(300, store.readAll(0, 4096).records().size());
        }
    }

    @Test
    void aStandbyThatDoesNotHoldTheBatchInTimeFailsItTypedAndTheEventStaysInTheLog() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 300, 100))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            standby.setLagReason("standby b2 disconnected 4 s ago");
            store.setReplicaProgress(standby);
            byte[] id = new byte[16];
            id[0] = 42;
            long start = store.log().publishedPosition();
            CompletableFuture<AppendResult> f = store.append("door", ExpectedVersion.NO_STREAM, event("opened", id));
            RingStoreException e = failure(f);
            assertEquals(ErrorCode.REPLICA_UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains("IS in this board's log") && e.getMessage().contains("last_version=0")
                    && e.getMessage().contains("b2 disconnected"), e.getMessage());

            // Status, and the fault light, say why.
            StoreStatus s = store.status();
            assertTrue(s.ack().replicaUnavailable());
            assertEquals(1, s.ack().timeouts());
            assertTrue(s.ack().lagReason().contains("b2 disconnected"), s.ack().lagReason());
            assertEquals(LedPattern.ON, LedLogic.patterns(StoreSignals.from(s, false, System.nanoTime())).get(Led.FAULT));

            // The event is in the log (shipping can still send it) but no reader sees it.
            long end = store.log().publishedPosition();
            List<LogRecord> shipped = store.log().readPublished(start, 10).records();
            assertEquals(1, shipped.size());
            assertEquals("door", shipped.getFirst().getStream());
            assertEquals(0, visible(store, "door"));
            assertEquals(start, store.committedPosition());

            // The standby comes back: a retry with the same id is answered with the original
            // version, once held, and the stream holds the event once.
            standby.setHeld(AckMode.REPLICA_MEMORY, end);
            AppendResult retry = store.append("door", ExpectedVersion.NO_STREAM, event("opened", id))
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(retry.replayed());
            assertEquals(0, retry.lastVersion());
            assertEquals(AckMode.REPLICA_MEMORY, retry.ackMode());
            assertEquals(1, visible(store, "door"));
            assertFalse(store.ackStatus().replicaUnavailable());
        }
    }

    @Test
    void soloAcknowledgesAsLocalAndSaysSoAndPairedRequiresTheStandbyAgain() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 30_000, 100))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            store.setReplicaProgress(standby);
            long p0 = store.log().publishedPosition();
            CompletableFuture<AppendResult> waiting = store.append("a", ExpectedVersion.ANY, event("a0"));
            awaitWritten(store, p0);
            assertWaiting(waiting);

            assertTrue(store.setSolo(true, "test"));
            assertFalse(store.setSolo(true, "test"), "already solo");
            AppendResult a = waiting.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.LOCAL, a.ackMode());
            assertTrue(a.solo());
            assertEquals(Durability.SYNC, a.durability());
            assertTrue(store.log().durablePosition() > a.lastPosition(), "local sync: forced before the ack");

            AppendResult b = store.append("a", ExpectedVersion.ANY, event("a1")).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.LOCAL, b.ackMode());
            assertTrue(b.solo());
            assertEquals(2, visible(store, "a"));
            assertTrue(store.status().ack().solo());
            assertEquals(AckMode.LOCAL, store.status().ack().applied());

            assertTrue(store.setSolo(false, "test"));
            long p1 = store.log().publishedPosition();
            CompletableFuture<AppendResult> c = store.append("a", ExpectedVersion.ANY, event("a2"));
            long end = awaitWritten(store, p1);
            assertWaiting(c);
            assertEquals(2, visible(store, "a"));
            standby.setHeld(AckMode.REPLICA_MEMORY, end);
            AppendResult cr = c.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.REPLICA_MEMORY, cr.ackMode());
            assertFalse(cr.solo());
        }
    }

    @Test
    void replicaDurableWaitsForTheStandbysForceAndForcesEachBatchHere() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_DURABLE, 30_000, 60_000))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            store.setReplicaProgress(standby);
            long p0 = store.log().publishedPosition();
            CompletableFuture<AppendResult> f = store.append("a", ExpectedVersion.ANY, event("a0"));
            long end = awaitWritten(store, p0);
            assertTrue(store.log().durablePosition() >= end, "this board forced the batch before handing it on");
            assertEquals(1, store.writerStats().forces());

            standby.setHeld(AckMode.REPLICA_MEMORY, Long.MAX_VALUE);
            assertWaiting(f);
            standby.setHeld(AckMode.REPLICA_DURABLE, end);
            AppendResult r = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.REPLICA_DURABLE, r.ackMode());
            assertEquals(Durability.SYNC, r.durability());
        }
    }

    @Test
    void aReplicaModeStoreWithoutShippingFailsAppendsRatherThanAcknowledgingAlone() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 200, 100))) {
            RingStoreException e = failure(store.append("a", ExpectedVersion.ANY, event("a0")));
            assertEquals(ErrorCode.REPLICA_UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains("log shipping is not running"), e.getMessage());
        }
    }

    @Test
    void aProgressThatThrowsFailsAppendsTypedAndTheStoreGoesOnWhenItIsReplaced() throws Exception {
        try (RingStore store = RingStore.open(config(AckMode.REPLICA_MEMORY, 200, 100))) {
            store.setReplicaProgress(new io.ringstore.replication.ReplicaProgress() {
                @Override
                public long held(AckMode mode) {
                    throw new IllegalStateException("broken progress");
                }

                @Override
                public boolean awaitHeld(AckMode mode, long position, long timeoutNanos) {
                    throw new IllegalStateException("broken progress");
                }

                @Override
                public String lagReason() {
                    throw new IllegalStateException("broken progress");
                }
            });
            RingStoreException e = failure(store.append("a", ExpectedVersion.ANY, event("a0")));
            assertEquals(ErrorCode.REPLICA_UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains("broken progress"), e.getMessage());

            TestReplicaProgress standby = new TestReplicaProgress();
            standby.setHeld(AckMode.REPLICA_MEMORY, Long.MAX_VALUE);
            store.setReplicaProgress(standby);
            AppendResult r = store.append("a", ExpectedVersion.ANY, event("a1")).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.REPLICA_MEMORY, r.ackMode());
            assertEquals(2, visible(store, "a"), "the failed append became readable once held");
        }
    }

    @Test
    void aLocalStoreAcknowledgesAsBeforeAndSaysLocal() throws Exception {
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir).withSegmentSize(1 << 20))) {
            AppendResult r = store.append("a", ExpectedVersion.ANY, event("a0")).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(AckMode.LOCAL, r.ackMode());
            assertFalse(r.solo());
            assertEquals(Durability.SYNC, r.durability());
            assertEquals(store.log().publishedPosition(), store.committedPosition());
            assertEquals(io.ringstore.writer.AckStatus.LOCAL, store.ackStatus());
            assertThrows(IllegalStateException.class, () -> store.setSolo(true, "test"));
            assertThrows(IllegalStateException.class, () -> store.setReplicaProgress(new TestReplicaProgress()));
        }
    }
}
