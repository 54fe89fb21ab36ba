package io.ringstore.bench;

import io.ringstore.split.SplitterState;
import io.ringstore.split.SplitterStatus;
import io.ringstore.store.RingStore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Follows one store's splitter for the benchmark: every state change with its time (from the
 * splitter's own listener), and waits on its lag by polling its status (a benchmark may poll; a
 * test would wait on events).
 */
final class SplitterWatch {
    private static final long POLL_MILLIS = 5;

    private final RingStore store;
    private final List<Change> changes = new ArrayList<>();

    /** The splitter entered {@code state} at {@code nanos} (System.nanoTime). */
    record Change(SplitterState state, long nanos) {}

    /**
     * Time the splitter spent held back by pressure within a window.
     *
     * @param pauses        entries into PAUSED_FOR_PRESSURE
     * @param pausedSeconds seconds in PAUSED_FOR_PRESSURE or OVER_LIMIT
     */
    record Pressure(int pauses, double pausedSeconds) {
        static final Pressure NONE = new Pressure(0, 0);
    }

    private SplitterWatch(RingStore store) {
        this.store = store;
        synchronized (changes) {
            changes.add(new Change(store.splitterStatus().state(), System.nanoTime()));
        }
        store.splitter().onStateChange(s -> {
            synchronized (changes) {
                changes.add(new Change(s, System.nanoTime()));
            }
        });
    }

    static SplitterWatch attach(RingStore store) {
        return new SplitterWatch(store);
    }

    SplitterStatus status() {
        return store.splitterStatus();
    }

    /** When the splitter first entered {@code state} at or after {@code afterNanos}; -1 if it has not. */
    long entered(SplitterState state, long afterNanos) {
        synchronized (changes) {
            for (Change c : changes) {
                if (c.state() == state && c.nanos() >= afterNanos) {
                    return c.nanos();
                }
            }
        }
        return -1;
    }

    /** Waits until the splitter is in {@code state}; false on timeout. */
    boolean awaitState(SplitterState state, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (store.splitterStatus().state() != state) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            store.splitter().wake();
            Thread.sleep(POLL_MILLIS);
        }
        return true;
    }

    /**
     * Waits until {@code done} holds for the splitter's status, printing the lag every
     * {@code progressMillis}; returns the System.nanoTime it was first seen, or -1 on timeout.
     */
    long await(java.util.function.Predicate<SplitterStatus> done, long timeoutMillis, PrintStream log, String label,
               long progressMillis) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeoutMillis * 1_000_000;
        long nextPrint = start + progressMillis * 1_000_000;
        while (true) {
            SplitterStatus s = store.splitterStatus();
            long now = System.nanoTime();
            if (done.test(s)) {
                return now;
            }
            if (now > deadline) {
                log.printf(Locale.ROOT, "  %s: TIMED OUT after %.0f s: %s%n", label, (now - start) / 1e9, s);
                return -1;
            }
            if (now >= nextPrint) {
                log.printf(Locale.ROOT, "  %s: splitter %s, lag %,d events / %,d bytes, %,d split, %.1f s%n", label,
                        s.state(), s.lagEvents(), s.lagBytes(), s.eventsSplit(), (now - start) / 1e9);
                nextPrint = now + progressMillis * 1_000_000;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Waits until every committed event is in a stream file; the nanoTime it was seen, or -1. */
    long awaitLagZero(long timeoutMillis, PrintStream log, String label, long progressMillis)
            throws InterruptedException {
        return await(s -> s.lagEvents() == 0, timeoutMillis, log, label, progressMillis);
    }

    /**
     * CPU seconds the splitter thread has used so far (the store's thread named
     * "ringstore-splitter"; one store is open at a time here), NaN when it cannot be measured.
     */
    static double splitterCpuSeconds() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("ringstore-splitter")) {
                long nanos = threads.getThreadCpuTime(t.threadId());
                return nanos < 0 ? Double.NaN : nanos / 1e9;
            }
        }
        return Double.NaN;
    }

    /** Pauses and paused time between two instants. */
    Pressure pressure(long fromNanos, long toNanos) {
        int pauses = 0;
        long paused = 0;
        synchronized (changes) {
            for (int i = 0; i < changes.size(); i++) {
                Change c = changes.get(i);
                long end = i + 1 < changes.size() ? changes.get(i + 1).nanos() : toNanos;
                long a = Math.max(c.nanos(), fromNanos);
                long b = Math.min(end, toNanos);
                boolean held = c.state() == SplitterState.PAUSED_FOR_PRESSURE || c.state() == SplitterState.OVER_LIMIT;
                if (held && b > a) {
                    paused += b - a;
                }
                if (c.state() == SplitterState.PAUSED_FOR_PRESSURE && c.nanos() >= fromNanos && c.nanos() < toNanos) {
                    pauses++;
                }
            }
        }
        return new Pressure(pauses, paused / 1e9);
    }
}
