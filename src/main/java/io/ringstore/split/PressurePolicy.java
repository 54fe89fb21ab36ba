package io.ringstore.split;

/**
 * Turns pressure readings into "pause" or "go", with hysteresis: one high reading pauses; it
 * takes {@code calmReadings} low readings in a row to resume, so the splitter does not flap on
 * the pressure its own writes cause.
 *
 * <p>Every signal fades with time, so that a store nobody writes to reads calm: PSI's avg10 is
 * the kernel's own 10 s average, the queue fill is what waits now, and force latency only
 * counts the forces of the last {@code forceWindowMillis} (see {@link ForceLatencySignal}).
 * Force latency is judged against the card's own baseline, not in milliseconds: an SD card
 * whose lone 4 KiB fdatasync takes 100 ms at p99 is healthy at 100 ms, and an SSD is in trouble
 * long before that. It stays a signal where PSI exists too: it reacts within a force, where
 * avg10 needs seconds to climb.
 *
 * @param psiHigh              PSI some avg10 (percent) at or above which the storage is busy
 * @param psiLow               PSI below which it is calm
 * @param queueHigh            writer queue fill (fraction) that counts as busy
 * @param queueLow             writer queue fill that counts as calm
 * @param forceHigh            recent force p99 as a multiple of the card's baseline that counts as busy
 * @param forceLow             the multiple under which force latency is calm
 * @param forceWindowMillis    the recent window for force latency, and the length of each baseline window
 * @param forceBaselineWindows windows (that had forces) whose median p99 is the baseline
 * @param forceFloorMicros     a recent force p99 under this never counts as busy
 * @param calmReadings         low readings in a row needed to resume
 */
public record PressurePolicy(double psiHigh, double psiLow, double queueHigh, double queueLow,
                             double forceHigh, double forceLow, long forceWindowMillis, int forceBaselineWindows,
                             long forceFloorMicros, int calmReadings) {

    /**
     * Busy at 4x the card's usual force p99, calm under 2x; a 5 s window (the splitter resumes
     * about 5.5 s after the last slow force) and a baseline of the last 60 windows with forces
     * (five minutes of writing); forces under 10 ms never count.
     */
    public static PressurePolicy defaults() {
        return new PressurePolicy(40, 15, 0.5, 0.1, 4.0, 2.0, 5_000, 60, 10_000, 5);
    }

    public PressurePolicy {
        if (psiLow > psiHigh || queueLow > queueHigh || forceLow > forceHigh || forceLow < 1) {
            throw new IllegalArgumentException("pressure thresholds: each low must be under its high, force multiples at least 1");
        }
        if (forceWindowMillis < 1 || forceBaselineWindows < ForceLatencySignal.MIN_BASELINE_WINDOWS
                || forceFloorMicros < 0 || calmReadings < 1) {
            throw new IllegalArgumentException("pressure windows: forceWindowMillis>=1, forceBaselineWindows>="
                    + ForceLatencySignal.MIN_BASELINE_WINDOWS + ", forceFloorMicros>=0, calmReadings>=1");
        }
    }

    /** The same thresholds with another force window (tests shorten it to keep their runs short). */
    public PressurePolicy withForceWindow(long millis) {
        return new PressurePolicy(psiHigh, psiLow, queueHigh, queueLow, forceHigh, forceLow, millis,
                forceBaselineWindows, forceFloorMicros, calmReadings);
    }

    public boolean high(PressureReading r) {
        return (!Double.isNaN(r.psiSomeAvg10()) && r.psiSomeAvg10() >= psiHigh)
                || r.writerQueueFill() >= queueHigh
                || r.forceSlowdown() >= forceHigh;
    }

    public boolean low(PressureReading r) {
        return (Double.isNaN(r.psiSomeAvg10()) || r.psiSomeAvg10() < psiLow)
                && r.writerQueueFill() < queueLow
                && r.forceSlowdown() < forceLow;
    }
}
