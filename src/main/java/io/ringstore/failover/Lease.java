package io.ringstore.failover;

import io.ringstore.writer.AckGate;
import java.util.function.Supplier;

/**
 * The primary's lease from the failover group: the gate every acknowledgement passes right
 * before it is released ({@link AckGate}). Monotonic clocks only ({@link System#nanoTime()},
 * never a wall clock: a Pi without a real-time clock sets its wall clock from the network, in
 * jumps).
 *
 * <p>Granting: every {@code lease/3} the primary sends a beat; the group's leader answers it with
 * a linearizable read of the committed state (it confirms its leadership with a majority first).
 * When the answer names this board primary in this board's epoch, the lease runs until
 * {@code s + lease}, where {@code s} is this board's clock when the beat was SENT (not answered:
 * the read happened at some time after {@code s}, and anchoring at the earlier time only makes the
 * lease shorter). Any other answer, or none, grants nothing; an answer naming another primary or
 * a newer epoch ends the lease at once.
 *
 * <p>Why a new primary waits W = lease * (1 + drift)^2 + margin after learning its election
 * (drift: {@code clock_drift_percent}, the bound on how much faster or slower one board's
 * monotonic clock runs than real time): let the last answer that named the old primary P in
 * epoch E be for a beat sent at real time t_s; the read behind that answer happened at t_r > t_s,
 * and before the commit of the new epoch at t_c (a linearizable read after t_c returns the new
 * state): t_s < t_c. P's lease is {@code lease} on P's clock, at most lease * (1 + drift) real
 * time, so P acknowledges nothing after t_c + lease * (1 + drift). The new primary N learns the
 * commit at t_l >= t_c and waits W on its own clock, which takes at least W / (1 + drift) real
 * time; N's first acknowledgement is then after t_c + W / (1 + drift) >= t_c + lease * (1 + drift)
 * when W >= lease * (1 + drift)^2. The margin covers what the lease check cannot: a pause on P
 * between its last check and an answer's socket write (see AckReleaser#gateOpens), and the
 * time from a beat's send to the read that answers it is not counted against P at all.
 * Nothing here assumes the two boards' clocks agree on an instant; only on rates.
 */
public final class Lease implements AckGate {
    private final Supplier<String> whyClosed;
    private final Object lock = new Object();
    /** System.nanoTime() until which acknowledgements may go out; valid only while {@link #held}. */
    private volatile long untilNanos;
    private volatile boolean held;
    /** The epoch the lease was granted in. */
    private volatile long epoch;

    /** @param whyClosed what a closed lease's error says (the voters this board cannot reach, the group's answer) */
    public Lease(Supplier<String> whyClosed) {
        this.whyClosed = whyClosed;
    }

    /** W in nanoseconds: {@code lease * (1 + drift/100)^2 + margin}, rounded up. */
    public static long takeoverWaitNanos(long leaseNanos, int driftPercent, long marginNanos) {
        long d = 100L + driftPercent;
        return Math.ceilDiv(Math.multiplyExact(leaseNanos, d * d), 10_000L) + marginNanos;
    }

    /** Where a lease granted on a beat sent at {@code sentNanos} ends. */
    public static long grantedUntil(long sentNanos, long leaseNanos) {
        return sentNanos + leaseNanos;
    }

    /** Whether a lease ending at {@code untilNanos} still holds at {@code nowNanos} (overflow-safe, as nanoTime needs). */
    public static boolean holds(long untilNanos, long nowNanos) {
        return untilNanos - nowNanos > 0;
    }

    /**
     * The group answered a beat sent at {@code sentNanos} naming this board primary in
     * {@code epoch}: the lease runs until {@code sentNanos + leaseNanos} (never moved back within
     * one epoch: answers may arrive out of order).
     */
    public void grant(long epoch, long sentNanos, long leaseNanos) {
        synchronized (lock) {
            long until = grantedUntil(sentNanos, leaseNanos);
            if (!held || this.epoch != epoch || until - untilNanos > 0) {
                untilNanos = until;
            }
            this.epoch = epoch;
            held = true;
            lock.notifyAll();
        }
    }

    /** The group named another primary or a newer epoch (or this board is no longer primary): no lease from now. */
    public void revoke() {
        synchronized (lock) {
            held = false;
            untilNanos = 0;
        }
    }

    @Override
    public boolean open() {
        return held && holds(untilNanos, System.nanoTime());
    }

    @Override
    public boolean awaitOpen(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (lock) {
            while (!open()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /** How long the lease still runs, in ms (0: none or lapsed). */
    public long remainingMillis() {
        long left = untilNanos - System.nanoTime();
        return held && left > 0 ? left / 1_000_000 : 0;
    }

    /** The epoch of the last grant (0 before any). */
    public long epoch() {
        return epoch;
    }

    @Override
    public String closedReason() {
        return whyClosed.get();
    }
}
