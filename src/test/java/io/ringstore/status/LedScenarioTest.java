package io.ringstore.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.fault.FaultInjectingIo;
import io.ringstore.log.FileStorageIo;
import io.ringstore.split.PressureGauge;
import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterOptions;
import io.ringstore.split.SplitterState;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LEDs driven by a real store through Pi4J's mock provider, with a test clock: pins are
 * read back from the mock outputs, time moves only when the test says so.
 */
class LedScenarioTest {
    private static final long MS = 1_000_000;

    @TempDir
    Path dir;

    private final AtomicReference<PressureReading> pressure = new AtomicReference<>(PressureReading.CALM);
    private final PressureGauge gauge = pressure::get;
    private Pi4jLeds leds;
    private long now = 1_000_000 * MS;

    private Pi4jLeds leds() {
        // write active-high, lag active-low (wired from 3V3), fault active-high
        leds = Pi4jLeds.create(MockDigitalOutputProvider.newInstance(), Map.of(
                Led.WRITE, new LedPin(5, false), Led.LAG, new LedPin(6, true), Led.FAULT, new LedPin(13, false)));
        return leds;
    }

    @AfterEach
    void close() {
        if (leds != null) {
            leds.close();
        }
    }

    private StoreConfig config() {
        return StoreConfig.defaults(dir).withSegmentSize(64 << 10).withPressureGauge(gauge)
                .withSplitter(SplitterOptions.defaults().withWindow(16 << 10, 10).withMaxLag(64 << 10, 600)
                        .withOverLimitDuty(0.02));
    }

    private boolean lit(Led led) {
        boolean high = leds.pinHigh(led);
        return led == Led.LAG ? !high : high; // the lag LED is active-low
    }

    private static void append(RingStore store, String stream) {
        store.append(stream, ExpectedVersion.ANY, List.of(EventData.of("t", new byte[200]))).join();
    }

    private static void awaitState(RingStore store, SplitterState state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.splitterStatus().state() != state) {
            store.splitter().wake();
            assertTrue(System.nanoTime() < deadline, "splitter never reached " + state + ": " + store.splitterStatus());
            store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 10);
        }
    }

    @Test
    void writeLightFlashesPerCommitRateLimitedAndDarkWhenIdle() throws Exception {
        Pi4jLeds l = leds();
        try (RingStore store = RingStore.open(config())) {
            LedDriver driver = new LedDriver(l.outputs(), () -> StoreSignals.from(store.status(), false, now), () -> now);
            driver.tick(now);
            assertFalse(lit(Led.WRITE), "idle: dark");
            assertFalse(lit(Led.LAG));
            assertFalse(lit(Led.FAULT));

            append(store, "a");
            driver.tick(now);
            assertTrue(lit(Led.WRITE), "a group commit flashes");
            now += 30 * MS;
            driver.tick(now);
            assertTrue(lit(Led.WRITE), "still within the 40 ms flash");
            now += 20 * MS;
            driver.tick(now);
            assertFalse(lit(Led.WRITE), "flash over");

            // A burst: commits keep coming, but flashes are at most one per 120 ms.
            int flashes = 0;
            boolean wasLit = false;
            for (int step = 0; step < 60; step++) { // 60 x 10 ms = 600 ms of writing
                append(store, "a");
                now += 10 * MS;
                driver.tick(now);
                boolean on = lit(Led.WRITE);
                if (on && !wasLit) {
                    flashes++;
                }
                wasLit = on;
            }
            assertTrue(flashes >= 4 && flashes <= 6, "600 ms of commits at 120 ms per flash: " + flashes);
            now += 500 * MS;
            driver.tick(now);
            now += 500 * MS;
            driver.tick(now);
            assertFalse(lit(Led.WRITE), "dark again when idle");
        }
    }

    @Test
    void lagLightFollowsTheSplitter() throws Exception {
        Pi4jLeds l = leds();
        try (RingStore store = RingStore.open(config())) {
            LedDriver driver = new LedDriver(l.outputs(), () -> StoreSignals.from(store.status(), false, now), () -> now);
            pressure.set(new PressureReading(90, 0, 0));
            awaitState(store, SplitterState.PAUSED_FOR_PRESSURE);
            append(store, "a");
            assertEquals(LedPattern.FAST_BLINK, LedLogic.patterns(StoreSignals.from(store.status(), false, now)).get(Led.LAG));
            now = 0;
            driver.tick(now);
            assertTrue(lit(Led.LAG), "fast blink: on in the first 125 ms");
            now = 130 * MS;
            driver.tick(now);
            assertFalse(lit(Led.LAG), "fast blink: off in the second 125 ms");
            now = 260 * MS;
            driver.tick(now);
            assertTrue(lit(Led.LAG));

            // Far past the 64 KiB lag bound under pressure (at a 2% duty cycle it stays over it
            // for many seconds): steady.
            List<java.util.concurrent.CompletableFuture<?>> burst = new java.util.ArrayList<>();
            for (int i = 0; i < 4_000; i++) {
                burst.add(store.append("s" + (i % 7), ExpectedVersion.ANY, List.of(EventData.of("t", new byte[200]))));
            }
            burst.forEach(java.util.concurrent.CompletableFuture::join);
            awaitState(store, SplitterState.OVER_LIMIT);
            for (long t = 0; t < 1_000; t += 100) {
                now = 10_000 * MS + t * MS;
                driver.tick(now);
                assertEquals(SplitterState.OVER_LIMIT, store.splitterStatus().state());
                assertTrue(lit(Led.LAG), "over the limit: steady on at +" + t + " ms");
            }

            // Pressure gone: it catches up and the light goes dark.
            pressure.set(PressureReading.CALM);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (store.splitterStatus().lagEvents() > 0 || store.splitterStatus().state() != SplitterState.RUNNING) {
                store.splitter().wake();
                assertTrue(System.nanoTime() < deadline, "no catch-up: " + store.splitterStatus());
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 10);
            }
            now += 1_000 * MS;
            driver.tick(now);
            assertFalse(lit(Led.LAG), "caught up: dark");
        }
    }

    @Test
    void faultLightOnFullDiskAndBlinkingDuringRecovery() throws Exception {
        Pi4jLeds l = leds();
        AtomicBoolean recovering = new AtomicBoolean(true);
        AtomicReference<RingStore> open = new AtomicReference<>();
        LedDriver driver = new LedDriver(l.outputs(), () -> recovering.get() ? StoreSignals.recovering()
                : StoreSignals.from(open.get().status(), false, now), () -> now);
        now = 0;
        driver.tick(now);
        assertTrue(lit(Led.FAULT), "recovery: slow blink, on in the first half second");
        now = 600 * MS;
        driver.tick(now);
        assertFalse(lit(Led.FAULT), "recovery: off in the second half second");

        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        try (RingStore store = RingStore.open(config().withIo(io))) {
            open.set(store);
            recovering.set(false);
            now = 2_000 * MS;
            driver.tick(now);
            assertFalse(lit(Led.FAULT), "recovered: dark");

            // The disk fills: the next segment cannot be allocated.
            io.arm(FaultInjectingIo.Op.ALLOCATE, FaultInjectingIo.Mode.PERSISTENT, 1, FaultInjectingIo.Failure.NO_SPACE);
            RingStoreException full = null;
            for (int i = 0; i < 2_000 && full == null; i++) {
                try {
                    store.append("a", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[500]))).join();
                } catch (CompletionException e) {
                    full = (RingStoreException) e.getCause();
                }
            }
            assertEquals(ErrorCode.STORAGE_FULL, full.code());
            for (long t = 0; t < 1_000; t += 250) {
                now = 5_000 * MS + t * MS;
                driver.tick(now);
                assertTrue(lit(Led.FAULT), "disk full: steady");
            }
            io.clearAll();
            store.append("a", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[500]))).join();
            now += 100 * MS;
            driver.tick(now);
            assertFalse(lit(Led.FAULT), "space again: dark");
        }
    }

    /**
     * Over the disk budget: appends get STORAGE_FULL and the fault LED is steady; once a limit
     * lets retention free space, appends resume and the LED goes dark (no restart, no write
     * needed to unblock it).
     */
    @Test
    void faultLightWhileOverTheDiskBudget() throws Exception {
        Pi4jLeds l = leds();
        StoreConfig config = config().withRetention(io.ringstore.retention.RetentionOptions.defaults()
                .withBudget(12L << 20, 0, 80));
        try (RingStore store = RingStore.open(config)) {
            LedDriver driver = new LedDriver(l.outputs(), () -> StoreSignals.from(store.status(), false, now), () -> now);
            driver.tick(now);
            assertFalse(lit(Led.FAULT), "empty store: dark");
            List<EventData> batch = java.util.stream.IntStream.range(0, 100)
                    .mapToObj(i -> EventData.of("t", new byte[500])).toList();
            RingStoreException full = null;
            var budget = store.retention().budget();
            for (int i = 0; i < 2_000 && !(full != null && budget.refusing()); i++) {
                full = null;
                try {
                    store.append("sensor", ExpectedVersion.ANY, batch).join();
                } catch (CompletionException e) {
                    full = (RingStoreException) e.getCause();
                }
                if (i % 10 == 9 || full != null) {
                    store.splitter().drain(); // the log is only reclaimed once split
                    store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
                }
                if (full != null) {
                    // A refusal while the splitter has events still to copy passes once it has
                    // (the budget counts them): full means refused with nothing left to split.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while ((store.splitterStatus().lagEvents() > 0 || budget.projectedBytes() > budget.usageBytes())
                            && System.nanoTime() < deadline) {
                        store.splitter().drain();
                        store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
                    }
                }
            }
            assertEquals(ErrorCode.STORAGE_FULL, full == null ? null : full.code(), "never refused over the budget");
            assertTrue(store.status().writer().storageFull(), "status must say storage full");
            for (long t = 0; t < 1_000; t += 250) {
                now += 250 * MS;
                driver.tick(now);
                assertTrue(lit(Led.FAULT), "over the budget: steady");
            }
            long kept = store.readStream("sensor", 0, Integer.MAX_VALUE, io.ringstore.read.Direction.FORWARD).events().size();
            assertTrue(kept >= 100, "refusing appends must not lose what was stored: " + kept);

            // A count limit lets retention rewrite the stream's file; appends resume by themselves.
            store.setLimits("sensor", new io.ringstore.retention.StreamLimits(1_000, io.ringstore.retention.StreamLimits.UNSET,
                    io.ringstore.retention.StreamLimits.UNSET, false)).join();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // Until the rewrite has freed space, not merely until usage dips under the refusal
            // point: that can happen by a segment's reclaim alone, and the next append crosses back.
            while (store.status().writer().storageFull() || store.retention().budget().overLowWater()) {
                assertTrue(System.nanoTime() < deadline, "still over the budget: " + store.retention().budget().describe());
                store.splitter().wake();
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20); // a bounded wait: retention works meanwhile
            }
            store.append("sensor", ExpectedVersion.ANY, batch).join();
            now += 100 * MS;
            driver.tick(now);
            assertFalse(lit(Led.FAULT), "back under the budget: dark");
            var events = store.readStream("sensor", 0, Integer.MAX_VALUE, io.ringstore.read.Direction.FORWARD).events();
            assertEquals(1_000, events.size(), "the count limit holds");
            assertEquals(kept + 100 - 1, events.get(events.size() - 1).getVersion(), "versions keep counting");
        }
    }
}
