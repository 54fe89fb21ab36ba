package io.ringstore.split;

/**
 * One look at the signals that say the storage is busy.
 *
 * @param psiSomeAvg10    Linux PSI {@code /proc/pressure/io} "some avg10", percent; NaN when absent
 * @param writerQueueFill appends waiting for the writer, as a fraction of the queue's capacity
 * @param forceSlowdown   the writer's recent force p99 as a multiple of the card's usual; 0 when
 *                        no force happened recently or there is no baseline yet (see {@link ForceLatencySignal})
 */
public record PressureReading(double psiSomeAvg10, double writerQueueFill, double forceSlowdown) {
    public static final PressureReading CALM = new PressureReading(0, 0, 0);
}
