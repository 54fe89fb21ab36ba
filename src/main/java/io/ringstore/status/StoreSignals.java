package io.ringstore.status;

import io.ringstore.store.StoreStatus;
import java.util.concurrent.TimeUnit;

/** Turns the store's status into what the LEDs show. */
public final class StoreSignals {
    /** A storage error keeps the fault light on this long after it happened. */
    static final long ERROR_HOLD_NANOS = TimeUnit.SECONDS.toNanos(60);

    private StoreSignals() {}

    public static LedSignals from(StoreStatus s, boolean corruptionFound, long nowNanos) {
        var w = s.writer();
        boolean held = w.queueCapacity() > 0 && w.queueDepth() >= w.queueCapacity() * 9 / 10;
        // Appends failing for want of a standby (REPLICA_UNAVAILABLE) light it too: a person must
        // bring the standby back or choose `ringstore replication solo`.
        boolean fault = w.storageFull() || w.recentError(nowNanos, ERROR_HOLD_NANOS) || s.ack().replicaUnavailable();
        // A rebuild that could not keep every version of a damaged stream file: acknowledged
        // events no read returns. Like corruption found at start, it stays on until a restart.
        boolean lost = s.splitter().lostVersions() > 0;
        return new LedSignals(w.batches(), s.splitter().state(), s.splitter().lagging(), held, fault,
                corruptionFound || lost, false, replica(s.replication()));
    }

    static LedSignals.Replica replica(io.ringstore.replication.ReplicationSummary r) {
        if (r == null) {
            return LedSignals.Replica.NONE;
        }
        if (!r.inSync()) {
            return LedSignals.Replica.DEGRADED;
        }
        return r.role() == io.ringstore.replication.Role.PRIMARY ? LedSignals.Replica.IN_SYNC : LedSignals.Replica.FOLLOWING;
    }

    /** While the store is being opened: recovery running. */
    public static LedSignals recovering() {
        return new LedSignals(0, io.ringstore.split.SplitterState.STOPPED, false, false, false, false, true);
    }
}
