package io.ringstore.bench;

import io.ringstore.split.SplitterState;
import io.ringstore.split.SplitterStatus;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How fast the splitter catches up after a pause. A held pressure gauge keeps it paused while
 * {@code pausedEvents} arrive at a steady ingest rate; then the gauge reads calm and the ingest
 * goes on at the same rate. Timed from the release: when the splitter leaves its pause (the
 * pressure policy's hysteresis), when its split position passes where the log ended at the
 * release (the backlog is gone), and when it reports RUNNING again (the splitter's own "caught
 * up": lag within one window). Under continuing ingest the lag never stays at exactly 0: the
 * newest part-full window always waits to fill or age.
 */
final class CatchUpRun {
    private static final long POLL_MILLIS = 5;
    private static final long PAUSE_TIMEOUT_MILLIS = 10_000;

    private final SplitterBenchOptions options;
    private final PrintStream log;

    CatchUpRun(SplitterBenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    SplitterReport.CatchUp run(Path dir) throws IOException, InterruptedException {
        SplitterBenchOptions.CatchUp c = options.catchUp();
        SplitterBenchOptions.Load load = options.load();
        // Enough events for the pause and the longest catch-up; the driver is stopped when done.
        int events = (int) Math.min(Integer.MAX_VALUE - 8,
                c.pausedEvents() + (long) Math.ceil(c.ingestRate() * (c.timeoutSeconds() + 10)));
        Workload workload = Workload.generate(events, load.streams(), load.payloadBytes(), load.seed());
        HeldGauge gauge = new HeldGauge();
        StoreConfig config = StoreConfig.defaults(dir).withPressureGauge(gauge).withSplitter(options.splitterOptions());
        int depth = options.sweep().inFlight();
        try (StoreTarget target = StoreTarget.open(config)) {
            RingStore store = target.store();
            SplitterWatch watch = SplitterWatch.attach(store);
            gauge.hold();
            if (!watch.awaitState(SplitterState.PAUSED_FOR_PRESSURE, PAUSE_TIMEOUT_MILLIS)) {
                throw new IllegalStateException("splitter did not pause under the held gauge: " + watch.status());
            }
            LoadDriver driver = new LoadDriver(target, workload, load.producers(), depth, c.ingestRate());
            AtomicReference<LoadDriver.Result> result = new AtomicReference<>();
            Thread ingest = Thread.ofPlatform().name("bench-ingest").start(() -> {
                try {
                    result.set(driver.run());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            long start = System.nanoTime();
            long nextPrint = start + options.progressMillis() * 1_000_000L;
            while (driver.completed() < c.pausedEvents()) {
                if (!ingest.isAlive()) {
                    throw new IllegalStateException("ingest ended before the pause filled: " + driver.completed());
                }
                if (System.nanoTime() >= nextPrint) {
                    SplitterStatus s = watch.status();
                    log.printf(Locale.ROOT, "  paused: %,d/%,d events in, splitter %s, lag %,d events%n",
                            driver.completed(), c.pausedEvents(), s.state(), s.lagEvents());
                    nextPrint += options.progressMillis() * 1_000_000L;
                }
                Thread.sleep(POLL_MILLIS);
            }
            long release = System.nanoTime();
            long ackedAtRelease = driver.completed();
            long committedAtRelease = store.committedPosition();
            SplitterStatus atRelease = watch.status();
            double pausedSeconds = (release - start) / 1e9;
            log.printf(Locale.ROOT, "  released after %.1f s: lag %,d events / %,d bytes, splitter %s%n",
                    pausedSeconds, atRelease.lagEvents(), atRelease.lagBytes(), atRelease.state());
            gauge.release();
            store.splitter().wake();

            long backlogAt = -1;
            long caughtUpAt = -1;
            long ackedAtCaughtUp = 0;
            SplitterStatus atCaughtUp = atRelease;
            long deadline = release + c.timeoutSeconds() * 1_000_000_000L;
            nextPrint = release + options.progressMillis() * 1_000_000L;
            while (System.nanoTime() < deadline) {
                SplitterStatus s = watch.status();
                long now = System.nanoTime();
                if (backlogAt < 0 && s.position() >= committedAtRelease) {
                    backlogAt = now;
                }
                if (backlogAt >= 0 && watch.entered(SplitterState.RUNNING, release) >= 0) {
                    caughtUpAt = now; // polled, like the counts read with it (within a poll interval)
                    ackedAtCaughtUp = driver.completed();
                    atCaughtUp = s;
                    break;
                }
                if (now >= nextPrint) {
                    log.printf(Locale.ROOT, "  catching up: splitter %s, lag %,d events, %,d split since release, %.1f s%n",
                            s.state(), s.lagEvents(), s.eventsSplit() - atRelease.eventsSplit(), (now - release) / 1e9);
                    nextPrint += options.progressMillis() * 1_000_000L;
                }
                Thread.sleep(POLL_MILLIS);
            }
            long end = System.nanoTime();
            driver.stop();
            ingest.join();
            boolean timedOut = caughtUpAt < 0;
            if (timedOut) {
                atCaughtUp = watch.status();
                ackedAtCaughtUp = driver.completed();
                caughtUpAt = end;
                log.printf(Locale.ROOT, "  NOT caught up within %d s: %s%n", c.timeoutSeconds(), atCaughtUp);
            }
            long resumed = firstOf(watch.entered(SplitterState.CATCHING_UP, release),
                    watch.entered(SplitterState.RUNNING, release));
            double caughtUpSeconds = (caughtUpAt - release) / 1e9;
            SplitterReport.CatchUp out = new SplitterReport.CatchUp(load.streams(), c.ingestRate(), pausedSeconds,
                    atRelease.lagEvents(), atRelease.lagBytes(),
                    resumed < 0 ? Double.NaN : (resumed - release) / 1e9,
                    backlogAt < 0 ? Double.NaN : (backlogAt - release) / 1e9,
                    caughtUpSeconds, atCaughtUp.eventsSplit() - atRelease.eventsSplit(),
                    (ackedAtCaughtUp - ackedAtRelease) / caughtUpSeconds, ackedAtRelease / pausedSeconds,
                    atCaughtUp.lagEvents(), timedOut, result.get());
            log.printf(Locale.ROOT, "  done: resumed after %.2f s, backlog gone after %.1f s, caught up after %.1f s; "
                            + "split %,.0f ev/s vs ingest %,.0f ev/s = %.1fx%n", out.resumeSeconds(), out.backlogSeconds(),
                    out.caughtUpSeconds(), out.splitEventsPerSecond(), out.ingestEventsPerSecond(), out.multiple());
            return out;
        }
    }

    private static long firstOf(long a, long b) {
        if (a < 0) {
            return b;
        }
        return b < 0 ? a : Math.min(a, b);
    }
}
