package io.ringstore.bench;

import io.ringstore.split.PressureGauge;
import io.ringstore.split.PressureReading;

/**
 * A pressure gauge the benchmark holds high (the splitter pauses, as under real I/O pressure)
 * or calm, through the same interface the real gauges implement. While it is in use, the real
 * signals (PSI, writer queue, force latency) are not read at all.
 */
final class HeldGauge implements PressureGauge {
    /** PSI "some avg10" well above the default pause threshold (40 %). */
    private static final PressureReading HIGH = new PressureReading(95, 0, 0);

    private volatile boolean high;

    void hold() {
        high = true;
    }

    void release() {
        high = false;
    }

    @Override
    public PressureReading read() {
        return high ? HIGH : PressureReading.CALM;
    }
}
