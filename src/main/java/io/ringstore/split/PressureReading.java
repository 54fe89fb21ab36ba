package io.ringstore.split;

/**
 * One look at the signals that say the storage is busy.
 *
 * @param psiSomeAvg10    Linux PSI {@code /proc/pressure/io} "some avg10", percent; NaN when absent
 * @param writerQueueFill appends waiting for the writer, as a fraction of the queue's capacity
 * @param forceP99Micros  99th percentile of the writer's recent force latencies
 */
public record PressureReading(double psiSomeAvg10, double writerQueueFill, long forceP99Micros) {
    public static final PressureReading CALM = new PressureReading(0, 0, 0);
}
