package io.ringstore.split;

/**
 * Turns pressure readings into "pause" or "go", with hysteresis: one high reading pauses; it
 * takes {@code calmReadings} low readings in a row to resume, so the splitter does not flap on
 * the pressure its own writes cause.
 *
 * @param psiHigh        PSI some avg10 (percent) at or above which the storage is busy
 * @param psiLow         PSI below which it is calm
 * @param queueHigh      writer queue fill (fraction) that counts as busy
 * @param queueLow       writer queue fill that counts as calm
 * @param forceHighMicros force p99 that counts as busy (an SD card stalling)
 * @param forceLowMicros  force p99 that counts as calm
 * @param calmReadings   low readings in a row needed to resume
 */
public record PressurePolicy(double psiHigh, double psiLow, double queueHigh, double queueLow,
                             long forceHighMicros, long forceLowMicros, int calmReadings) {

    public static PressurePolicy defaults() {
        return new PressurePolicy(40, 15, 0.5, 0.1, 150_000, 50_000, 5);
    }

    public boolean high(PressureReading r) {
        return (!Double.isNaN(r.psiSomeAvg10()) && r.psiSomeAvg10() >= psiHigh)
                || r.writerQueueFill() >= queueHigh
                || r.forceP99Micros() >= forceHighMicros;
    }

    public boolean low(PressureReading r) {
        return (Double.isNaN(r.psiSomeAvg10()) || r.psiSomeAvg10() < psiLow)
                && r.writerQueueFill() < queueLow
                && r.forceP99Micros() < forceLowMicros;
    }
}
