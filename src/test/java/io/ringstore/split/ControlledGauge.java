package io.ringstore.split;

import java.util.concurrent.atomic.AtomicReference;

/** A pressure gauge the test sets; the splitter reads it through the same interface as the real one. */
final class ControlledGauge implements PressureGauge {
    private final AtomicReference<PressureReading> reading = new AtomicReference<>(PressureReading.CALM);

    void set(PressureReading r) {
        reading.set(r);
    }

    void high() {
        set(new PressureReading(90, 0, 0));
    }

    void calm() {
        set(PressureReading.CALM);
    }

    @Override
    public PressureReading read() {
        return reading.get();
    }
}
