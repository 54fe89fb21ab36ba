package io.ringstore.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.TestReplicaProgress;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AckOptions;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lease as the store's ack path sees it, in ack_mode local (the writer asks it) and in a
 * replica mode (the ack releaser asks it after the standbys hold the batch): a closed lease holds
 * acknowledgements back, bounded, then fails them with NO_QUORUM naming why; the event is in the
 * log, not readable until a later acknowledged batch commits past it.
 */
class AckGateTest {
    private static final long MS = 1_000_000L;

    @TempDir
    Path dir;

    private RingStore open(AckMode mode) throws java.io.IOException {
        StoreConfig c = StoreConfig.defaults(dir.resolve(mode.configName())).withSegmentSize(1 << 20);
        return RingStore.open(c.withWriter(c.writer().withAck(AckOptions.of(mode).withTimeoutMillis(300))));
    }

    private static List<EventData> event(String text) {
        return List.of(EventData.of("test", text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void localModeWaitsForTheLeaseThenFailsWithNoQuorum() throws Exception {
        try (RingStore store = open(AckMode.LOCAL)) {
            Lease lease = new Lease(() -> "voters unreachable: [b2, w]");
            store.setAckGate(lease);
            long t0 = System.nanoTime();
            CompletionException e = assertThrows(CompletionException.class,
                    () -> store.append("s", ExpectedVersion.ANY, event("one")).join());
            assertTrue(System.nanoTime() - t0 >= 300 * MS, "waited the bounded time");
            RingStoreException r = (RingStoreException) e.getCause();
            assertEquals(ErrorCode.NO_QUORUM, r.code());
            assertTrue(r.getMessage().contains("voters unreachable: [b2, w]") && r.getMessage().contains("IS in this board's log"),
                    r.getMessage());
            long committedBefore = store.committedPosition();
            lease.grant(1, System.nanoTime(), 10_000 * MS);
            AppendResult ok = store.append("s", ExpectedVersion.ANY, event("two")).join();
            assertEquals(1, ok.firstVersion(), "the unacknowledged append is in the log (version 0)");
            assertTrue(store.committedPosition() > committedBefore);
            assertEquals(1, store.noQuorumFailures());
        }
    }

    @Test
    void replicaModeChecksTheLeaseAfterTheStandbysHoldTheBatch() throws Exception {
        try (RingStore store = open(AckMode.REPLICA_MEMORY)) {
            TestReplicaProgress progress = new TestReplicaProgress();
            store.setReplicaProgress(progress);
            progress.setHeldAll(Long.MAX_VALUE);
            Lease lease = new Lease(() -> "voters unreachable: [w]");
            store.setAckGate(lease);
            CompletionException e = assertThrows(CompletionException.class,
                    () -> store.append("s", ExpectedVersion.ANY, event("one")).join());
            assertEquals(ErrorCode.NO_QUORUM, ((RingStoreException) e.getCause()).code());
            // A lease granted while a batch waits releases it.
            var pending = store.append("s", ExpectedVersion.ANY, event("two"));
            Thread.sleep(100);
            assertTrue(!pending.isDone(), "held back while the lease is closed");
            lease.grant(1, System.nanoTime(), 10_000 * MS);
            AppendResult ok = pending.join();
            assertEquals(AckMode.REPLICA_MEMORY, ok.ackMode());
            // Revoked (the group named another primary): the next one waits again.
            lease.revoke();
            assertThrows(CompletionException.class, () -> store.append("s", ExpectedVersion.ANY, event("three")).join());
            assertEquals(2, store.noQuorumFailures());
        }
    }
}
