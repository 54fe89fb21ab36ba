package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's bench rows at a tiny size: the lone socket daemon and two boards (standby and primary
 * daemon children, TLS over loopback) in replica-memory and replica-durable, every event
 * acknowledged, percentiles ordered, the table printing the two-board rows and their ratios; and
 * a standby started empty catching up a few MB.
 */
class ReplicaBenchSmokeTest {
    private static final int EVENTS = 1_000;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void twoBoardRowsPrintWithPlausibleNumbers() throws Exception {
        BenchOptions options = BenchOptions.parse(new String[] {"--quick", "--replica-modes", "replica-memory,replica-durable",
                "--events", "" + EVENTS, "--streams", "50", "--producers", "4", "--in-flight", "8", "--reads", "0",
                "--sweep-streams", "0", "--fsync-writes", "0", "--idle-ms", "0", "--warmup", "100", "--dir", dir.toString()});
        assertEquals(List.of("socket", "pair-memory", "pair-durable"), options.targets());
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BenchReport report = new BenchRunner(options, new PrintStream(progress, true, StandardCharsets.UTF_8)).run();
        String log = progress.toString(StandardCharsets.UTF_8);
        for (String target : options.targets()) {
            ConfigResult r = report.find(target, 8);
            assertNotNull(r, target + " missing:\n" + log);
            assertEquals(EVENTS, r.run().acked(), target + ": every event acknowledged\n" + log);
            assertEquals(0, r.run().failed(), target + ": " + r.run().firstError());
            assertTrue(r.eventsPerSecond() > 10, target + " " + r.eventsPerSecond());
            long p50 = r.run().latencyP50Nanos();
            long p99 = r.run().latencyP99Nanos();
            assertTrue(p50 > 0 && p99 >= p50 && p99 < 60_000_000_000L, target + " p50 " + p50 + " p99 " + p99);
            assertTrue(r.batching().events() >= EVENTS, target + ": the primary's own count " + r.batching().events());
        }
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        TablePrinter.print(report, new PrintStream(table, true, StandardCharsets.UTF_8));
        String text = table.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("2 boards, repl-memory") && text.contains("2 boards, repl-durable"), text);
        assertTrue(text.matches("(?s).*pair-memory / socket ev/s, in-flight 8 +[0-9.]+x.*"), text);
    }

    /**
     * 192 MB behind, more than the standby's heap (the unit's -Xmx128m): before the applier's
     * inbox was bounded to a few messages, a standby this far behind died of OutOfMemoryError at
     * about 128 MB and never caught up.
     */
    @Test
    @Timeout(180)
    void standbyStartedEmptyCatchesUp() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        ReplicaFailoverBench.Result r = new ReplicaFailoverBench(new String[] {"--replica-failover", "--promote-runs", "0",
                "--catch-up-mb", "192", "--dir", dir.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(progress, true, StandardCharsets.UTF_8)).run();
        assertTrue(r.catchUpMegabytes() >= 192, progress.toString(StandardCharsets.UTF_8));
        assertTrue(r.catchUpSeconds() > 0 && r.catchUpMegabytesPerSecond() > 0.1, "" + r);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("catch-up: standby started empty"), out.toString());
    }
}
