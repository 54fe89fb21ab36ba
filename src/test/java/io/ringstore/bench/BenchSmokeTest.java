package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the whole bench at a tiny size: every configuration counts every event and yields sane numbers. */
class BenchSmokeTest {
    private static final int EVENTS = 2_000;

    @TempDir
    Path dir;

    @Test
    void tinyRunCountsEveryEventAndReportsPlausibleNumbers() throws Exception {
        BenchOptions options = BenchOptions.parse(new String[] {"--events", "2000", "--streams", "100",
                "--payload", "256", "--producers", "4", "--in-flight", "1,8", "--idle-ms", "0",
                "--dir", dir.toString()});
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BenchReport report = new BenchRunner(options, new PrintStream(progress, true, StandardCharsets.UTF_8)).run();

        assertEquals(4, report.rows().size());
        for (ConfigResult r : report.rows()) {
            String what = r.target() + " in-flight " + r.inFlight();
            assertEquals(EVENTS, r.run().acked(), what);
            assertEquals(0, r.run().failed(), what + ": " + r.run().firstError());
            assertNull(r.run().firstError(), what);
            assertEquals(EVENTS, r.batching().events(), what + ": target's own event count");
            assertTrue(r.eventsPerSecond() > 0 && r.payloadMBps() > 0, what);
            assertTrue(r.run().latencyP50Nanos() > 0, what);
            assertTrue(r.run().latencyP99Nanos() >= r.run().latencyP50Nanos(), what);
            assertTrue(r.batching().forces() > 0 && r.batching().eventsPerForce() >= 1, what);
            assertTrue(r.batching().forceP99Micros() >= r.batching().forceP50Micros(), what);
            if (r.device().available()) {
                assertTrue(r.device().bytesPerPayloadByte() > 0, what + ": the device saw writes");
            }
        }
        // The baseline writes frames as long as the store's, so device bytes compare like for like.
        double store = report.find("store", 8).batching().frameBytesPerEvent();
        double baseline = report.find("baseline", 8).batching().frameBytesPerEvent();
        assertTrue(Math.abs(store - baseline) <= 8, "frame bytes/event store=" + store + " baseline=" + baseline);
        assertEquals(2, report.ratios().size());
        assertTrue(report.ratios().getFirst().eventsPerSecond() > 0);

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        TablePrinter.print(report, new PrintStream(table, true, StandardCharsets.UTF_8));
        assertTrue(table.toString(StandardCharsets.UTF_8).contains("store / baseline"));
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        JsonReport.print(report, new PrintStream(json, true, StandardCharsets.UTF_8));
        String text = json.toString(StandardCharsets.UTF_8).trim();
        assertTrue(text.contains("\"eventsAcked\":2000"), text);
        assertOneJsonObject(text);
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "each configuration's folder is removed");
        }
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
