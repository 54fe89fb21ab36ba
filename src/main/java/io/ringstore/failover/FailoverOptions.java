package io.ringstore.failover;

/**
 * Automatic failover's timing (ringstore.conf keys in brackets; defaults sized for Wi-Fi between
 * Raspberry Pi boards).
 *
 * @param leaseMillis           [{@code lease_ms}, 3000] how long a primary may acknowledge after
 *                              sending a beat the group answered naming it primary; it beats every
 *                              third of it, so two lost beats in a row are tolerated
 * @param driftPercent          [{@code clock_drift_percent}, 10] a bound on how much faster or slower
 *                              one board's monotonic clock runs than another's (crystal oscillators
 *                              are within 0.01 %; 10 % covers a board whose clock source changes
 *                              under load or throttling)
 * @param marginMillis          [{@code lease_margin_ms}, 250] added to the new primary's wait: covers
 *                              the old primary's pause between its last lease check and an answer's
 *                              socket write
 * @param failoverAfterMillis   [{@code failover_after_ms}, 6000] the group leader promotes a standby
 *                              once the primary's last beat is this old
 * @param insyncDropAfterMillis [{@code insync_drop_after_ms}, 3000] an in-sync standby that does not
 *                              hold what waits for acknowledgement this long is dropped from the
 *                              in-sync set (must be below {@code replica_ack_timeout_ms}, so that the
 *                              drop commits before the waiting appends time out)
 * @param insyncRejoinAfterMillis [{@code insync_rejoin_after_ms}, 10000] a standby rejoins the in-sync
 *                              set only after being caught up this long without a break (hysteresis:
 *                              a flapping standby stays out instead of stalling acknowledgements at
 *                              every flap)
 */
public record FailoverOptions(long leaseMillis, int driftPercent, long marginMillis, long failoverAfterMillis,
                              long insyncDropAfterMillis, long insyncRejoinAfterMillis) {
    public static final FailoverOptions DEFAULTS = new FailoverOptions(3_000, 10, 250, 6_000, 3_000, 10_000);

    public FailoverOptions {
        if (leaseMillis < 30 || marginMillis < 0 || driftPercent < 0 || driftPercent > 100) {
            throw new IllegalArgumentException("lease_ms must be >= 30, lease_margin_ms >= 0, clock_drift_percent 0..100: "
                    + "lease=" + leaseMillis + " margin=" + marginMillis + " drift=" + driftPercent);
        }
        if (failoverAfterMillis <= leaseMillis / 3) {
            throw new IllegalArgumentException("failover_after_ms (" + failoverAfterMillis + ") must be longer than the beat "
                    + "interval lease_ms/3 (" + leaseMillis / 3 + "): else every beat's jitter promotes a standby");
        }
        if (insyncDropAfterMillis < 1 || insyncRejoinAfterMillis < 0) {
            throw new IllegalArgumentException("insync_drop_after_ms must be >= 1 and insync_rejoin_after_ms >= 0");
        }
    }

    /** Checks the options against the ack path's bound; throws naming the keys when they do not fit. */
    public void checkAgainst(long replicaAckTimeoutMillis) {
        if (insyncDropAfterMillis >= replicaAckTimeoutMillis) {
            throw new IllegalArgumentException("insync_drop_after_ms (" + insyncDropAfterMillis + ") must be below "
                    + "replica_ack_timeout_ms (" + replicaAckTimeoutMillis + "): a standby that stops must be dropped from "
                    + "the in-sync set before the appends waiting for it time out");
        }
    }

    /** How often a board beats: a third of the lease. */
    public long beatMillis() {
        return Math.max(10, leaseMillis / 3);
    }

    /** W, the new primary's wait: see {@link Lease}. */
    public long takeoverWaitNanos() {
        return Lease.takeoverWaitNanos(leaseMillis * 1_000_000L, driftPercent, marginMillis * 1_000_000L);
    }

    public FailoverOptions withLease(long ms) {
        return new FailoverOptions(ms, driftPercent, marginMillis, failoverAfterMillis, insyncDropAfterMillis,
                insyncRejoinAfterMillis);
    }
}
