package io.ringstore.writer;

/**
 * Whether this board may acknowledge appends at all, asked right before each batch is released
 * (committed and answered): a failover group's lease ({@code io.ringstore.failover.Lease}). Without
 * a group it is {@link #OPEN}. A closed gate holds acknowledgements back, bounded by
 * {@code replica_ack_timeout_ms}; then the batch fails with NO_QUORUM (written, not committed,
 * not readable: like REPLICA_UNAVAILABLE).
 */
public interface AckGate {
    /** Whether acknowledgements may go out now (cheap: a volatile read and the monotonic clock). */
    boolean open();

    /** Waits until {@link #open()} or {@code timeoutNanos} pass; returns whether it is open. */
    boolean awaitOpen(long timeoutNanos) throws InterruptedException;

    /** Why it is closed, for the NO_QUORUM error and status (e.g. "voters unreachable: w1"). */
    String closedReason();

    /** No group: always open. */
    AckGate OPEN = new AckGate() {
        @Override
        public boolean open() {
            return true;
        }

        @Override
        public boolean awaitOpen(long timeoutNanos) {
            return true;
        }

        @Override
        public String closedReason() {
            return "";
        }
    };
}
