package io.ringstore.replication;

/**
 * What the standbys hold, as the primary knows it: the seam between log shipping (which learns
 * the standbys' positions from their reports) and the writer's acknowledgements in the replica
 * modes (which wait on them). Positions are global log positions: everything before one is held.
 */
public interface ReplicaProgress {
    /**
     * The lowest position that every standby the mode requires holds: in memory for
     * {@link AckMode#REPLICA_MEMORY}, forced for {@link AckMode#REPLICA_DURABLE}; -1 when a
     * required standby is not connected.
     */
    long held(AckMode mode);

    /**
     * Waits until {@link #held(AckMode)} reaches {@code position} or {@code timeoutNanos} pass.
     *
     * @return whether it was reached
     */
    boolean awaitHeld(AckMode mode, long position, long timeoutNanos) throws InterruptedException;

    /** Why the standbys do not hold more, for errors and status (e.g. "standby b2 disconnected 4 s ago"); "" when they keep up. */
    String lagReason();
}
