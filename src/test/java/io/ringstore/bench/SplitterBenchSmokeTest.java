package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench --splitter} at a tiny size: every part runs and every count adds up. */
class SplitterBenchSmokeTest {
    private static final int EVENTS = 2_000;
    private static final int EVENTS_AT_1 = 300;
    private static final int SWEEP_EVENTS = 1_500;
    private static final int NAIVE_EVENTS = 100;

    @TempDir
    Path dir;

    @Test
    void tinyRunOfEveryPartCountsEveryEvent() throws Exception {
        SplitterBenchOptions options = SplitterBenchOptions.parse(new String[] {"--splitter",
                "--events", "" + EVENTS, "--events-in-flight-1", "" + EVENTS_AT_1, "--in-flight", "8,1",
                // The real gauges read machine-wide PSI: on a busy machine they may hold the splitter
                // for long. The held-calm and disabled runs are enough to check the counts.
                "--onoff-targets", "off,on",
                "--streams", "50", "--producers", "4", "--paused-events", "600", "--ingest-rate", "2000",
                "--catch-up-timeout", "60", "--sweep-streams", "1,20,200", "--sweep-events", "" + SWEEP_EVENTS,
                "--naive-events", "" + NAIVE_EVENTS, "--rehydrate-streams", "4", "--rehydrate-reads", "20",
                "--idle-ms", "0", "--window-ms", "50", "--dir", dir.toString()});
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        SplitterReport report = new SplitterBench(options, new PrintStream(progress, true, StandardCharsets.UTF_8)).run();

        assertEquals(4, report.onOff().size(), "off and on at two depths");
        for (SplitterReport.Run r : report.onOff()) {
            int events = r.inFlight() == 1 ? EVENTS_AT_1 : EVENTS;
            String what = r.target() + " in-flight " + r.inFlight();
            assertAcked(r, events, what);
            if (r.target().equals("store-off")) {
                assertEquals(0, r.eventsSplit(), what);
                assertEquals(0, r.files(), what + ": no splitter, no stream files");
            } else {
                assertSplitOnce(r, streamsUsed(Workload.generate(EVENTS, 50, 256, 42).first(events)), what);
            }
        }

        SplitterReport.CatchUp c = report.catchUp();
        assertFalse(c.timedOut(), "caught up");
        assertTrue(c.lagEventsAtRelease() >= 600, "everything appended while paused was unsplit: " + c);
        assertTrue(c.eventsSplit() >= c.lagEventsAtRelease() - c.lagEventsAtCaughtUp(), c.toString());
        assertTrue(c.multiple() > 0 && c.ingestEventsPerSecond() > 0, c.toString());
        assertEquals(0, c.run().failed(), c.run().firstError());

        assertEquals(6, report.sweep().size(), "store and naive at three stream counts");
        for (SplitterReport.Run r : report.sweep()) {
            String what = r.target() + " " + r.streams() + " streams";
            Workload w = Workload.generate(SWEEP_EVENTS, r.streams(), 256, 42);
            if (r.target().equals("store")) {
                assertAcked(r, SWEEP_EVENTS, what);
                assertSplitOnce(r, streamsUsed(w), what);
            } else {
                assertAcked(r, NAIVE_EVENTS, what);
                assertEquals(NAIVE_EVENTS, r.batching().forces(), what + ": one fdatasync per append");
                assertEquals(streamsUsed(w.first(NAIVE_EVENTS)), r.files(), what + ": one file per stream");
                assertEquals(NAIVE_EVENTS * (r.fileBytes() / NAIVE_EVENTS), r.fileBytes(), what + ": whole frames");
            }
        }

        SplitterReport.Rehydration h = report.rehydration();
        assertEquals(3, h.sets().size());
        for (SplitterReport.ReadSet s : h.sets()) {
            assertEquals(20, s.reads(), s.label());
            assertEquals(0, s.wrong(), s.label() + ": " + s.firstWrong());
            assertTrue(s.p99Nanos() >= s.p50Nanos() && s.p50Nanos() > 0, s.label());
        }
        assertEquals(0, h.splitWhileUnsplit(), "the held gauge kept the unsplit set in the log tail");

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        SplitterTablePrinter.print(report, new PrintStream(table, true, StandardCharsets.UTF_8));
        String text = table.toString(StandardCharsets.UTF_8);
        for (String section : List.of("1. append throughput", "2. catch-up", "3. stream-count sweep", "4. rehydration")) {
            assertTrue(text.contains(section), section + " missing:\n" + text);
        }
        assertFalse(text.contains("NaN"), text);
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "each configuration's folder is removed");
        }
    }

    private static void assertAcked(SplitterReport.Run r, int events, String what) {
        assertEquals(events, r.run().acked(), what);
        assertEquals(0, r.run().failed(), what + ": " + r.run().firstError());
        assertEquals(events, r.batching().events(), what + ": the target's own count");
        assertTrue(r.eventsPerSecond() > 0, what);
    }

    /** A fresh store's splitter moves every event exactly once, into one file per stream used. */
    private static void assertSplitOnce(SplitterReport.Run r, int streamsUsed, String what) {
        assertEquals(r.run().acked(), r.eventsSplit(), what + ": events split");
        assertTrue(r.lagZeroSeconds() >= r.run().seconds(), what + ": lag 0 after the last ack");
        assertEquals(streamsUsed, r.files(), what + ": stream files");
        assertTrue(r.windows() >= 1, what);
    }

    private static int streamsUsed(Workload w) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < w.events(); i++) {
            seen.add(w.streamOf(i));
        }
        return seen.size();
    }
}
