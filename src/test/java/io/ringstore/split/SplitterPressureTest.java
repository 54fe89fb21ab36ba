package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.append;
import static io.ringstore.split.SplitterTestSupport.await;
import static io.ringstore.split.SplitterTestSupport.config;
import static io.ringstore.split.SplitterTestSupport.stateLatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pressure signals are injected through the same {@link PressureGauge} interface the real gauges implement. */
class SplitterPressureTest {
    @TempDir
    Path dir;

    @Test
    void pausesUnderPressureServesReadsAndCatchesUpWhenItEases() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        try (RingStore store = RingStore.open(config(dir, gauge))) {
            append(store, "warm", 0);
            await(store, () -> store.splitterStatus().lagEvents() == 0, "first split");

            CountDownLatch paused = stateLatch(store, SplitterState.PAUSED_FOR_PRESSURE);
            gauge.high();
            store.splitter().wake();
            assertTrue(paused.await(10, TimeUnit.SECONDS), "splitter did not pause");
            long splitBefore = store.splitterStatus().position();
            for (int v = 0; v < 200; v++) {
                append(store, "s" + (v % 5), v / 5);
            }
            // Paused: nothing moves to the stream files, lag grows, reads are still complete.
            assertEquals(SplitterState.PAUSED_FOR_PRESSURE, store.splitterStatus().state());
            assertEquals(splitBefore, store.splitterStatus().position());
            assertEquals(200, store.splitterStatus().lagEvents());
            for (int s = 0; s < 5; s++) {
                assertEquals(40, store.readStream("s" + s, 0, 100, Direction.FORWARD).events().size());
            }

            // A single calm reading is not enough (hysteresis) ...
            gauge.set(new PressureReading(20, 0, 0)); // between low (15) and high (40): not calm
            store.splitter().wake();
            // ... the splitter stays paused while readings are in the band.
            assertEquals(SplitterState.PAUSED_FOR_PRESSURE, store.splitterStatus().state());

            gauge.calm();
            store.splitter().wake();
            await(store, () -> store.splitterStatus().lagEvents() == 0, "catch up after pressure eased");
            assertTrue(store.splitterStatus().position() > splitBefore);
            for (int s = 0; s < 5; s++) {
                var slice = store.readStream("s" + s, 0, 100, Direction.FORWARD);
                assertEquals(40, slice.events().size());
                for (int v = 0; v < 40; v++) {
                    assertEquals(v, slice.events().get(v).getVersion());
                }
            }
        }
    }

    @Test
    void theLagBoundForcesProgressUnderPressure() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        StoreConfig config = config(dir, gauge);
        config = config.withSplitter(config.splitter().withMaxLag(32 << 10, 600));
        try (RingStore store = RingStore.open(config)) {
            CountDownLatch paused = stateLatch(store, SplitterState.PAUSED_FOR_PRESSURE);
            gauge.high();
            store.splitter().wake();
            assertTrue(paused.await(10, TimeUnit.SECONDS), "splitter did not pause");
            CountDownLatch overLimit = stateLatch(store, SplitterState.OVER_LIMIT);
            // Well past the 32 KiB bound.
            for (int v = 0; v < 1_000; v++) {
                append(store, "busy", v);
            }
            store.splitter().wake();
            assertTrue(overLimit.await(10, TimeUnit.SECONDS), "splitter never went over its limit");
            // Still under pressure, yet it makes progress until it is back under the bound.
            await(store, () -> store.splitterStatus().lagBytes() <= 32 << 10, "progress while over the limit");
            assertTrue(store.splitterStatus().eventsSplit() > 0);
            await(store, () -> store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE,
                    "pause again once under the bound");
            assertFalse(store.splitterStatus().lagEvents() == 0, "under pressure it should stop at the bound, not drain");
            assertEquals(1_000, store.readStream("busy", 0, 2_000, Direction.FORWARD).events().size());
        }
    }

    /**
     * Issue 14 item 1: a burst of slow forces pauses the splitter through the real gauge; once the
     * writer stops (no forces, PSI calm) the splitter must resume within seconds, not wait for
     * its lag bound.
     */
    @Test
    void resumesWithinSecondsOnceSlowForcesStop() throws Exception {
        Path psi = dir.resolve("psi-io");
        java.nio.file.Files.writeString(psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        SlowCardIo card = new SlowCardIo();
        StoreConfig config = config(dir.resolve("data"), null).withIo(card).withPsiFile(psi);
        config = config.withSplitter(config.splitter().withPressure(policyForTest()));
        try (RingStore store = RingStore.open(config)) {
            // A healthy card for a while: the gauge learns what its forces usually take.
            long baselineUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(baselineMillis());
            int v = 0;
            while (System.nanoTime() < baselineUntil) {
                append(store, "base", v++);
            }
            assertFalse(store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE,
                    "a healthy card must not read as pressure");

            // The card stalls: each force now takes 200 ms more; the splitter pauses.
            CountDownLatch paused = stateLatch(store, SplitterState.PAUSED_FOR_PRESSURE);
            card.slow(200);
            int slow = 0;
            while (paused.getCount() > 0) {
                assertTrue(slow < 100, "the splitter did not pause after " + slow + " slow forces");
                append(store, "burst", slow++);
            }
            // The writer stops: no more forces. Calm from here on.
            long calmSince = System.nanoTime();
            CountDownLatch resumed = new CountDownLatch(1);
            store.splitter().onStateChange(s -> {
                if (s != SplitterState.PAUSED_FOR_PRESSURE) {
                    resumed.countDown();
                }
            });
            if (store.splitterStatus().state() != SplitterState.PAUSED_FOR_PRESSURE) {
                resumed.countDown();
            }
            boolean resumedInTime = resumed.await(30, TimeUnit.SECONDS);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - calmSince);
            System.out.printf("resume after slow forces: slowForces=%d resumedAfterMillis=%s%n", slow,
                    resumedInTime ? millis : ">30000");
            assertTrue(resumedInTime, "splitter still paused 30 s after the writer stopped: " + store.splitterStatus());
            assertTrue(millis < 10_000, "splitter took " + millis + " ms to resume after the writer stopped");
            await(store, () -> store.splitterStatus().lagEvents() == 0, "catch up once calm");
            assertEquals(slow, store.readStream("burst", 0, 1_000, Direction.FORWARD).events().size());
        }
    }

    /** The default thresholds with a 500 ms force window, so that the baseline forms in 1.5 s. */
    private static PressurePolicy policyForTest() {
        return PressurePolicy.defaults().withForceWindow(500);
    }

    /** Long enough for the gauge to close more than its minimum of baseline windows. */
    private static long baselineMillis() {
        return (ForceLatencySignal.MIN_BASELINE_WINDOWS + 1) * policyForTest().forceWindowMillis();
    }

    @Test
    void psiParsing() {
        assertEquals(16.97, SystemPressureGauge.parseSomeAvg10(
                "some avg10=16.97 avg60=10.77 avg300=16.96 total=153731038\nfull avg10=0.06 avg60=0.35 avg300=1.52 total=1\n"));
    }

    @Test
    void policyHasHysteresis() {
        PressurePolicy p = PressurePolicy.defaults();
        assertTrue(p.high(new PressureReading(50, 0, 0)));
        assertTrue(p.high(new PressureReading(Double.NaN, 0.6, 0)));
        assertTrue(p.high(new PressureReading(Double.NaN, 0, 4.0)));
        assertFalse(p.high(new PressureReading(20, 0.2, 3.9)));
        assertFalse(p.low(new PressureReading(Double.NaN, 0, 2.0)));
        assertFalse(p.low(new PressureReading(20, 0, 0)));
        assertTrue(p.low(new PressureReading(Double.NaN, 0, 0)));
    }
}
