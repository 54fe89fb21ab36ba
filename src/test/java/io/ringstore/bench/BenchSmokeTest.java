package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole comparison (issue 7) at a tiny size, every target including the daemon child and
 * SQLite: every row is there, every event is counted, reads come back complete, and the numbers
 * are sane (device bytes at least the payload, percentiles ordered, ratios computed).
 */
class BenchSmokeTest {
    private static final int EVENTS = 2_000;
    private static final int EVENTS_AT_1 = 300;
    private static final int NAIVE = 100;
    private static final int SWEEP_EVENTS = 1_000;
    private static final int READS = 20;

    @TempDir
    Path dir;

    @Test
    void tinyQuickRunHasEveryRowAndSaneValues() throws Exception {
        BenchOptions options = BenchOptions.parse(new String[] {"--quick", "--events", "" + EVENTS,
                "--events-in-flight-1", "" + EVENTS_AT_1, "--naive-events", "" + NAIVE, "--streams", "100",
                "--producers", "4", "--in-flight", "8,1", "--sweep-streams", "1,20,200",
                "--sweep-events", "" + SWEEP_EVENTS, "--reads", "" + READS, "--ingest-rate", "500",
                "--fsync-writes", "20", "--idle-ms", "0", "--dir", dir.toString()});
        assertEquals(BenchOptions.TARGETS, options.targets(), "--quick runs every target");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BenchReport report = new BenchRunner(options, new PrintStream(progress, true, StandardCharsets.UTF_8)).run();
        String log = progress.toString(StandardCharsets.UTF_8);

        assertTrue(report.environment().sqlite().startsWith("SQLite 3."), report.environment().sqlite());
        assertEquals(20, report.fsync().writes());
        assertTrue(report.fsync().p50Micros() > 0 && report.fsync().p99Micros() >= report.fsync().p50Micros());

        assertEquals(10, report.rows().size(), "5 targets x 2 depths:\n" + log);
        for (String target : BenchOptions.TARGETS) {
            for (int depth : new int[] {8, 1}) {
                ConfigResult r = report.find(target, depth);
                String what = target + " in-flight " + depth;
                assertNotNull(r, what + " missing");
                int events = target.equals("naive") ? NAIVE : depth == 1 ? EVENTS_AT_1 : EVENTS;
                assertSane(r, events, what);
                boolean readable = depth == 8 && List.of("store", "socket", "sqlite").contains(target);
                if (readable) {
                    assertEquals(READS, r.reads().reads(), what);
                    assertEquals(0, r.reads().wrong(), what + ": " + r.reads().firstWrong());
                    assertTrue(r.reads().p50Nanos() > 0 && r.reads().p99Nanos() >= r.reads().p50Nanos(), what);
                    assertTrue(r.batching().events() > events,
                            what + ": the target's own count from the window on, background appends included");
                } else {
                    assertNull(r.reads(), what + ": reads are timed only at the deepest depth");
                    assertEquals(events, r.batching().events(),
                            what + ": the target's own count from the window on (the warm-up is not the row's)");
                }
            }
        }
        cpuWasCounted(report.rows());
        assertEquals(NAIVE, report.find("naive", 8).batching().forces(),
                "naive: one fdatasync per append of the window");

        assertEquals(6, report.sweep().size(), "store and sqlite at 3 stream counts");
        for (String target : List.of("store", "sqlite")) {
            for (int streams : new int[] {1, 20, 200}) {
                ConfigResult r = report.findSweep(target, streams);
                assertNotNull(r, target + " " + streams + " streams missing");
                assertSane(r, SWEEP_EVENTS, target + " sweep " + streams);
                assertEquals(streams, r.streams());
            }
        }

        List<BenchReport.Ratio> ratios = report.ratios();
        for (String name : List.of("socket / sqlite ev/s, in-flight 8", "socket / sqlite ev/s, in-flight 1",
                "socket / limit ev/s, in-flight 8", "socket / sqlite device B per payload B, in-flight 8",
                "store sweep ev/s, 200 / 1 streams")) {
            BenchReport.Ratio q = ratios.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
            assertNotNull(q, name + " missing from " + ratios);
            assertTrue(q.value() > 0 && Double.isFinite(q.value()) || q.name().contains("device"), q.toString());
        }
        assertEquals("hit", new BenchReport.Ratio("x", 5, ">=", 4).verdict());
        assertEquals("MISSED", new BenchReport.Ratio("x", 0.3, "<=", 0.25).verdict());

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        TablePrinter.print(report, new PrintStream(table, true, StandardCharsets.UTF_8));
        String text = table.toString(StandardCharsets.UTF_8);
        for (String part : List.of("storage limit", "ringstore in-process", "ringstore socket", "SQLite WAL FULL",
                "naive stream files", "stream-count sweep", "ratios", "4 KiB write + fdatasync")) {
            assertTrue(text.contains(part), part + " missing:\n" + text);
        }
        assertFalse(text.contains("NaN"), text);
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        JsonReport.print(report, new PrintStream(json, true, StandardCharsets.UTF_8));
        String j = json.toString(StandardCharsets.UTF_8).trim();
        assertTrue(j.contains("\"target\":\"socket\",\"streams\":100,\"inFlight\":8,\"eventsAcked\":2000"), j);
        assertOneJsonObject(j);
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "each configuration's folder is removed");
        }
    }

    private static void assertSane(ConfigResult r, int events, String what) {
        assertEquals(events, r.run().acked(), what);
        assertEquals(0, r.run().failed(), what + ": " + r.run().firstError());
        assertTrue(r.eventsPerSecond() > 0 && r.payloadMBps() > 0, what);
        assertTrue(r.run().latencyP50Nanos() > 0 && r.run().latencyP99Nanos() >= r.run().latencyP50Nanos(), what);
        assertTrue(r.batching().forces() > 0 && r.batching().eventsPerForce() >= 1, what);
        assertTrue(r.memory().peakRssBytes() > 0, what + ": peak RSS");
        // CPU time is counted in clock ticks: a tiny configuration can finish inside one and read 0.
        // What holds for each is a finite, non-negative number; that the counter counts at all is
        // checked over the whole run (see cpuWasCounted).
        assertTrue(r.cpuMicrosPerEvent() >= 0 && Double.isFinite(r.cpuMicrosPerEvent()), what + ": "
                + r.cpuMicrosPerEvent());
        if (r.device().available()) {
            // Every acknowledged payload byte reached the device at least once (the counter is device-wide,
            // so others can only add).
            assertTrue(r.device().bytesPerPayloadByte() >= 1, what + ": device bytes/payload byte "
                    + r.device().bytesPerPayloadByte());
        }
    }

    /** Ten configurations take seconds of CPU between them, many ticks of the counter: it must not read 0. */
    private static void cpuWasCounted(List<ConfigResult> rows) {
        double seconds = 0;
        for (ConfigResult r : rows) {
            seconds += r.cpu().selfSeconds() + r.childCpuSeconds();
        }
        assertTrue(seconds > 0, "no CPU time counted over " + rows.size() + " configurations");
    }

    /** Brackets balance outside strings and the one top-level object ends at the last character. */
    private static void assertOneJsonObject(String text) {
        assertTrue(text.startsWith("{"), text);
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            switch (c) {
                case '"' -> inString = true;
                case '{', '[' -> depth++;
                case '}', ']' -> depth--;
                default -> { }
            }
            assertTrue(depth >= 0, "unbalanced at " + i + ": " + text);
            assertTrue(depth > 0 || i == text.length() - 1, "top-level object ends early at " + i + ": " + text);
        }
        assertEquals(0, depth, text);
        assertTrue(!text.contains("NaN") && !text.contains("Infinity"), text);
    }
}
