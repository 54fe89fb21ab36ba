package io.ringstore.writer;

/**
 * Counters the writer publishes for status lines, benchmarks and (later) the LEDs.
 *
 * @param batches         group commits done
 * @param events          events appended
 * @param payloadBytes    bytes of frames appended
 * @param forces          forces done
 * @param forceP50Micros  median of recent force latencies
 * @param forceP99Micros  99th percentile of recent force latencies
 * @param queueDepth      appends waiting for the writer
 * @param queueCapacity   how many may wait before producers are held back
 * @param storageFull     the last segment allocation failed for lack of space
 * @param lastError       the last storage error, or null
 * @param lastErrorNanos  System.nanoTime() of the last storage error, 0 if none
 * @param throttledMillis time the writer waited, since start, because the splitter was past
 *                        its lag bound (see {@code split.WriterThrottle})
 */
public record WriterStats(long batches, long events, long payloadBytes, long forces, long forceP50Micros,
                          long forceP99Micros, int queueDepth, int queueCapacity, boolean storageFull,
                          String lastError, long lastErrorNanos, long throttledMillis) {

    /** A storage error in the last {@code windowNanos} (before {@code nowNanos}). */
    public boolean recentError(long nowNanos, long windowNanos) {
        return lastErrorNanos != 0 && nowNanos - lastErrorNanos < windowNanos;
    }
}
