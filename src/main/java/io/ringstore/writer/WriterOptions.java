package io.ringstore.writer;

/**
 * How the writer behaves; checked once at start.
 *
 * @param durability          when appends are acknowledged (default {@link Durability#SYNC})
 * @param forceIntervalMillis for {@link Durability#PERIODIC}: how often the writer forces
 * @param queueCapacity       appends that may wait for the writer before producers are held back
 * @param maxBatch            most appends taken into one group commit
 * @param submitTimeoutMillis how long a producer waits for queue room before "overloaded"
 * @param slowForceMillis     a force slower than this is logged as a warning (SD cards stall)
 * @param idempotencyWindow   how many recent event ids are remembered for idempotent retries
 * @param maxEventBytes       largest encoded event accepted
 * @param ack                 when a batch is acknowledged relative to the standbys ({@link AckOptions#LOCAL}: by this board alone)
 * @param gatherMicros        group commit with blocking clients: how long a small batch may wait for
 *                            the requests the recent batches had, at most half the last force's time
 *                            (0: never waits; see {@code Writer#gather})
 */
public record WriterOptions(Durability durability, long forceIntervalMillis, int queueCapacity, int maxBatch,
                            long submitTimeoutMillis, long slowForceMillis, int idempotencyWindow,
                            int maxEventBytes, AckOptions ack, long gatherMicros) {

    /** Default of {@link #gatherMicros}: up to half a millisecond, as long as half a force takes. */
    public static final long DEFAULT_GATHER_MICROS = 500;

    public static WriterOptions defaults() {
        return new WriterOptions(Durability.SYNC, 100, 4096, 1024, 5_000, 200, 16_384, 4 << 20, AckOptions.LOCAL,
                DEFAULT_GATHER_MICROS);
    }

    public WriterOptions {
        if (durability == null) {
            throw new IllegalArgumentException("durability must be set");
        }
        if (forceIntervalMillis < 1) {
            throw new IllegalArgumentException("forceIntervalMillis must be >= 1: " + forceIntervalMillis);
        }
        if (queueCapacity < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("queueCapacity and maxBatch must be >= 1");
        }
        if (idempotencyWindow < 0 || maxEventBytes < 64) {
            throw new IllegalArgumentException("idempotencyWindow must be >= 0 and maxEventBytes >= 64");
        }
        if (ack == null) {
            throw new IllegalArgumentException("ack options must be set");
        }
        if (gatherMicros < 0 || gatherMicros > 100_000) {
            throw new IllegalArgumentException("gatherMicros must be in 0..100000: " + gatherMicros);
        }
    }

    public WriterOptions withAck(AckOptions a) {
        return new WriterOptions(durability, forceIntervalMillis, queueCapacity, maxBatch, submitTimeoutMillis,
                slowForceMillis, idempotencyWindow, maxEventBytes, a, gatherMicros);
    }

    public WriterOptions withDurability(Durability d) {
        return new WriterOptions(d, forceIntervalMillis, queueCapacity, maxBatch, submitTimeoutMillis,
                slowForceMillis, idempotencyWindow, maxEventBytes, ack, gatherMicros);
    }

    public WriterOptions withForceIntervalMillis(long ms) {
        return new WriterOptions(durability, ms, queueCapacity, maxBatch, submitTimeoutMillis,
                slowForceMillis, idempotencyWindow, maxEventBytes, ack, gatherMicros);
    }

    public WriterOptions withQueueCapacity(int n) {
        return new WriterOptions(durability, forceIntervalMillis, n, maxBatch, submitTimeoutMillis,
                slowForceMillis, idempotencyWindow, maxEventBytes, ack, gatherMicros);
    }

    public WriterOptions withGatherMicros(long micros) {
        return new WriterOptions(durability, forceIntervalMillis, queueCapacity, maxBatch, submitTimeoutMillis,
                slowForceMillis, idempotencyWindow, maxEventBytes, ack, micros);
    }
}
