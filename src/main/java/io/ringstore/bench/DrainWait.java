package io.ringstore.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Waits for a store's splitter to move every event to its stream file (lag 0), so that a device
 * window closed afterwards holds those writes too. It gives up when the lag has not fallen for
 * {@code stallMillis} (the splitter paused by I/O pressure: on a shared machine, others' I/O
 * sets the machine-wide PSI it reads, and its lag bound lets it wait up to 10 minutes) or after
 * {@code timeoutMillis} in all; the events still unsplit then are reported with the row.
 */
final class DrainWait {
    private static final long POLL_MILLIS = 20;

    /** The splitter's state and lag, read from the store or the daemon. */
    record Lag(String state, long events) {}

    /** Reads the current lag. */
    interface Probe {
        Lag read() throws IOException;
    }

    private DrainWait() {}

    /** Returns the events still unsplit when it stopped waiting: 0 when drained. */
    static long await(Probe probe, long timeoutMillis, long stallMillis, PrintStream log, long progressMillis,
                      String label) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long nextPrint = start + progressMillis * 1_000_000;
        long lowest = Long.MAX_VALUE;
        long lowestAt = start;
        while (true) {
            Lag lag = probe.read();
            long now = System.nanoTime();
            if (lag.events() == 0) {
                return 0;
            }
            if (lag.events() < lowest) {
                lowest = lag.events();
                lowestAt = now;
            }
            if (now - lowestAt > stallMillis * 1_000_000 || now - start > timeoutMillis * 1_000_000) {
                log.printf(Locale.ROOT, "  %s: GAVE UP after %.1f s: splitter %s, %,d events not in stream files "
                        + "(their stream-file writes are missing from dev B/pay B)%n", label, (now - start) / 1e9,
                        lag.state(), lag.events());
                return lag.events();
            }
            if (now >= nextPrint) {
                log.printf(Locale.ROOT, "  %s: splitter %s, lag %,d events, %.1f s%n", label, lag.state(),
                        lag.events(), (now - start) / 1e9);
                nextPrint = now + progressMillis * 1_000_000;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
