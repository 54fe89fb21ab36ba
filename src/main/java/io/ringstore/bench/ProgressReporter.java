package io.ringstore.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/** Prints "label: done/total events, rate" to stderr at a fixed interval while a run goes on. */
final class ProgressReporter implements AutoCloseable {
    private final Thread thread;
    private volatile boolean stopped;

    private ProgressReporter(PrintStream out, String label, long total, LongSupplier done, long intervalMillis) {
        this.thread = Thread.ofPlatform().name("bench-progress").daemon().unstarted(() -> {
            long startNanos = System.nanoTime();
            long lastDone = 0;
            long lastNanos = startNanos;
            while (!stopped) {
                try {
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                }
                if (stopped) {
                    return;
                }
                long now = System.nanoTime();
                long d = done.getAsLong();
                out.printf(Locale.ROOT, "  %s: %,d/%,d events (%.0f%%), %,.0f ev/s now, %.1f s%n", label, d, total,
                        100.0 * d / total, (d - lastDone) / ((now - lastNanos) / 1e9), (now - startNanos) / 1e9);
                lastDone = d;
                lastNanos = now;
            }
        });
    }

    static ProgressReporter start(PrintStream out, String label, long total, LongSupplier done, long intervalMillis) {
        ProgressReporter r = new ProgressReporter(out, label, total, done, intervalMillis);
        r.thread.start();
        return r;
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
