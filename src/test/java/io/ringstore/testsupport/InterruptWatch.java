package io.ringstore.testsupport;

import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Finds who interrupts a test's thread. Twice in the suite's history a test failed because its
 * own thread was already interrupted (a first append "interrupted", a connect failing with
 * ClosedByInterruptException), and no {@code interrupt()} in the code explained it. While a test
 * runs, a watcher samples the test thread's interrupt flag every millisecond; when it turns on,
 * every thread's stack is printed at once (the interrupter is usually still next to its call),
 * with the test's name. A flag already set when a test starts names the test that left it.
 * What it found (2026-12-05): the JDK sets a thread's interrupt flag when another thread closes a
 * shared arena the first is reading (a log segment reclaimed under a reader); segments are now
 * unmapped by their last reader (see io.ringstore.log.Segment).
 *
 * <p>What it found goes to standard error and to {@code target/interrupt-watch.log}.
 * Registered for every test by {@code META-INF/services} (auto-detection is on in
 * junit-platform.properties). It only reports: it changes no outcome.
 */
public final class InterruptWatch implements BeforeEachCallback, AfterEachCallback {
    private static volatile String lastTest = "(none)";
    private volatile Thread watcher;

    @Override
    public void beforeEach(ExtensionContext context) {
        Thread test = Thread.currentThread();
        String name = context.getDisplayName() + " in " + context.getRequiredTestClass().getSimpleName();
        if (test.isInterrupted()) {
            report("INTERRUPT-WATCH: the test thread is already interrupted as " + name
                    + " starts; the previous test on it was " + lastTest);
        }
        lastTest = name;
        Thread w = Thread.ofPlatform().daemon().name("interrupt-watch").unstarted(() -> watch(test, name));
        watcher = w;
        w.start();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Thread w = watcher;
        watcher = null;
        if (w != null) {
            w.interrupt(); // its own thread: ends the watch
        }
    }

    /** To standard error and to target/interrupt-watch.log, which CI prints when the tests fail. */
    private static synchronized void report(String text) {
        System.err.println(text);
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("target", "interrupt-watch.log"), text + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("INTERRUPT-WATCH: cannot write target/interrupt-watch.log: " + e);
        }
    }

    private void watch(Thread test, String name) {
        boolean was = test.isInterrupted();
        while (watcher == Thread.currentThread()) {
            boolean now = test.isInterrupted();
            if (now && !was) {
                StringBuilder out = new StringBuilder("INTERRUPT-WATCH: the test thread ").append(test.getName())
                        .append(" was interrupted during ").append(name).append("; all threads:\n");
                for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                    out.append('"').append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
                    for (StackTraceElement s : e.getValue()) {
                        out.append("    at ").append(s).append('\n');
                    }
                }
                report(out.toString());
            }
            was = now;
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
