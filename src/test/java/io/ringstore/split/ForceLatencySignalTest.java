package io.ringstore.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The force-latency signal on a clock the test moves (times in ms, forces in micros). */
class ForceLatencySignalTest {
    private static final long MS = 1_000_000L;
    private final ForceLatencySignal signal = new ForceLatencySignal(1_000, 10, 10_000);

    /** Ten forces a second from {@code fromMs} for {@code seconds}, each taking {@code micros}. */
    private long forces(long fromMs, int seconds, long micros) {
        long t = fromMs;
        for (int i = 0; i < seconds * 10; i++, t += 100) {
            signal.add(micros, t * MS);
        }
        return t;
    }

    @Test
    void aCardAsSlowAsUsualIsNotSlowedDown() {
        long t = forces(0, 5, 100_000); // an SD card: 100 ms forces are its normal
        assertEquals(100_000, signal.baseline());
        assertEquals(1.0, signal.slowdown(t * MS), 1e-9);
    }

    @Test
    void noBaselineNoSignal() {
        signal.add(900_000, 0);
        assertEquals(-1, signal.baseline());
        assertEquals(0, signal.slowdown(10 * MS));
    }

    @Test
    void aStallReadsAsAMultipleOfTheBaselineAndFadesAWindowAfterTheLastForce() {
        long t = forces(0, 5, 20_000);
        t = forces(t, 1, 400_000); // the card stalls for a second
        assertEquals(20.0, signal.slowdown(t * MS), 1e-9);
        // No force for a window: no pressure, whatever the last ones took.
        assertEquals(0, signal.slowdown((t + 1_000) * MS));
        // The stall did not become the norm.
        assertEquals(20_000, signal.baseline());
    }

    @Test
    void quickForcesNeverCountHoweverFarAboveAFastDisksBaseline() {
        long t = forces(0, 5, 50);
        t = forces(t, 1, 5_000); // 100x the baseline, yet 5 ms
        assertEquals(0, signal.slowdown(t * MS));
        t = forces(t, 1, 20_000);
        assertTrue(signal.slowdown(t * MS) >= 400);
    }

    @Test
    void aLongSlowSpellBecomesTheNewBaseline() {
        long t = forces(0, 3, 10_000);
        t = forces(t, 10, 200_000); // slower for longer than half the baseline's span
        assertEquals(200_000, signal.baseline());
        assertEquals(1.0, signal.slowdown(t * MS), 1e-9);
    }
}
