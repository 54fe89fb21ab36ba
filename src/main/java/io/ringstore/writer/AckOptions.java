package io.ringstore.writer;

import io.ringstore.replication.AckMode;

/**
 * When the writer acknowledges a batch relative to the standbys (ringstore.conf {@code ack_mode},
 * {@code replica_ack_timeout_ms}, {@code replica_ack_max_batches}).
 *
 * @param mode               {@link AckMode#LOCAL} (this board alone, as the durability setting says),
 *                           or a replica mode (a batch is acknowledged once the standbys hold it)
 * @param timeoutMillis      replica modes: how long a batch waits for the standbys before its appends
 *                           fail with REPLICA_UNAVAILABLE (they stay in this board's log)
 * @param maxWaitingBatches  replica modes: batches written and waiting for the standbys at most; past it
 *                           the writer waits for room (producers are then held back by the queue)
 */
public record AckOptions(AckMode mode, long timeoutMillis, int maxWaitingBatches) {
    public static final long DEFAULT_TIMEOUT_MILLIS = 5_000;
    public static final int DEFAULT_MAX_WAITING_BATCHES = 256;
    public static final AckOptions LOCAL = new AckOptions(AckMode.LOCAL, DEFAULT_TIMEOUT_MILLIS, DEFAULT_MAX_WAITING_BATCHES);

    public AckOptions {
        if (mode == null) {
            throw new IllegalArgumentException("ack mode must be set");
        }
        if (timeoutMillis < 1 || maxWaitingBatches < 1) {
            throw new IllegalArgumentException("replica ack timeout and max waiting batches must be >= 1: timeoutMillis="
                    + timeoutMillis + " maxWaitingBatches=" + maxWaitingBatches);
        }
    }

    public static AckOptions of(AckMode mode) {
        return new AckOptions(mode, DEFAULT_TIMEOUT_MILLIS, DEFAULT_MAX_WAITING_BATCHES);
    }

    public AckOptions withTimeoutMillis(long ms) {
        return new AckOptions(mode, ms, maxWaitingBatches);
    }

    public boolean replica() {
        return mode != AckMode.LOCAL;
    }
}
