package io.ringstore.writer;

import io.ringstore.replication.AckMode;

/**
 * How appends are being acknowledged, for status, the status line and the LEDs.
 *
 * @param mode               the store's configured ack mode
 * @param solo               a replica-mode store the operator told to acknowledge alone
 *                           ({@code ringstore replication solo}); appends are then acknowledged as local
 * @param waitingBatches     written batches waiting for the standbys to hold them
 * @param oldestWaitMillis   how long the oldest of them has waited (0: none waits)
 * @param lagReason          why the standbys do not hold more, while a batch waits or they are unavailable; "" otherwise
 * @param replicaUnavailable the last batch that waited timed out (REPLICA_UNAVAILABLE) and none was held since
 * @param timeouts           batches failed with REPLICA_UNAVAILABLE since start
 * @param ackedPosition      position after the last batch acknowledged through the replica path (-1: none yet)
 */
public record AckStatus(AckMode mode, boolean solo, int waitingBatches, long oldestWaitMillis, String lagReason,
                        boolean replicaUnavailable, long timeouts, long ackedPosition) {
    /** A local store's status: nothing ever waits. */
    public static final AckStatus LOCAL = new AckStatus(AckMode.LOCAL, false, 0, 0, "", false, 0, -1);

    /** The mode appends are acknowledged in now: the configured one, or local when solo. */
    public AckMode applied() {
        return solo ? AckMode.LOCAL : mode;
    }
}
