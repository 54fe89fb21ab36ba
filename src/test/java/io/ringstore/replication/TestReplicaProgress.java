package io.ringstore.replication;

import java.util.EnumMap;
import java.util.Map;

/**
 * A {@link ReplicaProgress} whose positions the test moves (a seam like StorageIo, for the
 * writer's acknowledgements; log shipping's integration tests exercise the real one). Starts
 * with no standby connected (-1 in every mode). Waiters wake on every change.
 */
public final class TestReplicaProgress implements ReplicaProgress {
    private final Map<AckMode, Long> held = new EnumMap<>(AckMode.class);
    private String reason = "standby b2 disconnected";

    public TestReplicaProgress() {
        for (AckMode m : AckMode.values()) {
            held.put(m, -1L);
        }
    }

    /** The standbys now hold everything before {@code position} in {@code mode}. */
    public synchronized void setHeld(AckMode mode, long position) {
        held.put(mode, position);
        notifyAll();
    }

    /** Both replica modes at once (a standby that forces as soon as it receives). */
    public synchronized void setHeldAll(long position) {
        held.put(AckMode.REPLICA_MEMORY, position);
        held.put(AckMode.REPLICA_DURABLE, position);
        notifyAll();
    }

    public synchronized void setLagReason(String r) {
        reason = r;
    }

    @Override
    public synchronized long held(AckMode mode) {
        return held.get(mode);
    }

    @Override
    public synchronized boolean awaitHeld(AckMode mode, long position, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (held.get(mode) < position) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000), 0);
        }
        return true;
    }

    @Override
    public synchronized String lagReason() {
        return held.get(AckMode.REPLICA_MEMORY) < 0 ? reason : "";
    }
}
