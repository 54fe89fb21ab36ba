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
 * @param storageFull     the last segment allocation failed for lack of space
 * @param lastError       the last storage error, or null
 */
public record WriterStats(long batches, long events, long payloadBytes, long forces, long forceP50Micros,
                          long forceP99Micros, int queueDepth, boolean storageFull, String lastError) {}
