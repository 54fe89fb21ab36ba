package io.ringstore.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.store.RingStore;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a real child JVM while its compactor rewrites stream files (after a count limit was
 * set on every stream); afterwards each stream file is whole and fully before the rewrite (all
 * versions) or fully after it (exactly the kept ones), and reads give exactly the kept versions.
 */
class RewriteCrashTest {
    private static final int ROUNDS = 4;
    private static final int STREAMS = 12;
    private static final int EVENTS = 2000;
    private static final int KEEP = 800;

    @TempDir
    Path dir;

    @Test
    void eachStreamIsFullyBeforeOrAfterItsRewrite() throws Exception {
        Random random = new Random(8);
        int midRewrite = 0;
        int before = 0;
        int after = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Path data = dir.resolve("round-" + round);
            fill(data);
            int killAt = 1 + random.nextInt(STREAMS - 1);
            String killedDuring = runAndKill(data, killAt);
            StreamFiles files = new StreamFiles(data.resolve("streams"), 1, 1);
            boolean tempLeft = false;
            for (int i = 0; i < STREAMS; i++) {
                String stream = "s-" + i;
                Path file = files.pathFor(stream);
                tempLeft |= Files.exists(file.resolveSibling(file.getFileName() + StreamFileRewrite.TEMP_SUFFIX));
                long first = checkFile(file, stream);
                assertTrue(first == 0 || first == EVENTS - KEEP, stream + ": file starts at version " + first
                        + ", neither before (0) nor after (" + (EVENTS - KEEP) + ") the rewrite");
                if (first == 0) {
                    before++;
                } else {
                    after++;
                }
            }
            midRewrite += tempLeft ? 1 : 0;
            System.out.printf("round %d: killed at line %s (#%d), temp file left=%s%n", round, killedDuring, killAt,
                    tempLeft);
            try (RingStore store = RingStore.open(RewriteCrashChild.config(data))) {
                for (int i = 0; i < STREAMS; i++) {
                    var slice = store.readStream("s-" + i, 0, 4096, Direction.FORWARD);
                    List<Long> v = slice.events().stream().map(LogRecord::getVersion).toList();
                    assertEquals(KEEP, v.size(), "s-" + i + ": the limit must hold after the crash");
                    assertEquals(EVENTS - KEEP, v.getFirst());
                    assertEquals(EVENTS - 1, v.getLast());
                }
                RewriteCrashTest.awaitNoTemp(store, files);
            }
        }
        System.out.printf("streams found before their rewrite: %d, after: %d, rounds killed mid-rewrite: %d%n",
                before, after, midRewrite);
        assertTrue(before > 0 && after > 0, "the kills should land between rewrites: before=" + before + " after=" + after);
    }

    /** Checks the file reads whole from its header to its last footer; returns its first version. */
    private static long checkFile(Path file, String stream) throws Exception {
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
            long expect = r.firstVersion();
            LogRecord rec;
            while ((rec = r.next()) != null) {
                assertEquals(expect++, rec.getVersion(), stream + ": gap or duplicate");
            }
            assertNull(r.stopReason(), stream + ": " + r.stopReason());
            assertEquals(EVENTS - 1, r.lastFooterVersion(), stream + ": the file must end at the last version");
            return r.firstVersion();
        }
    }

    private static void awaitNoTemp(RingStore store, StreamFiles files) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < STREAMS; i++) {
            Path f = files.pathFor("s-" + i);
            Path temp = f.resolveSibling(f.getFileName() + StreamFileRewrite.TEMP_SUFFIX);
            while (Files.exists(temp)) {
                assertTrue(System.nanoTime() < deadline, "temp file never removed: " + temp);
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
            }
        }
    }

    /** Appends EVENTS events of ~500 bytes to each stream and waits until all are split. */
    private static void fill(Path data) throws Exception {
        try (RingStore store = RingStore.open(RewriteCrashChild.config(data).withRetention(RetentionOptions.defaults()))) {
            byte[] payload = "x".repeat(500).getBytes(StandardCharsets.US_ASCII);
            List<EventData> batch = Collections.nCopies(100, EventData.of("t", payload));
            for (int i = 0; i < STREAMS; i++) {
                for (int n = 0; n < EVENTS; n += batch.size()) {
                    store.append("s-" + i, ExpectedVersion.ANY, batch).join();
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (store.splitterStatus().lagEvents() > 0) {
                assertTrue(System.nanoTime() < deadline, "split did not finish");
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
            }
        }
    }

    private static String runAndKill(Path data, int killAt) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), RewriteCrashChild.class.getName(), data.toString(),
                Integer.toString(STREAMS), Integer.toString(KEEP))).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String killedDuring = null;
        List<String> seen = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            int rewrites = 0;
            boolean limits = false;
            while ((line = in.readLine()) != null) {
                seen.add(line);
                limits |= line.equals("LIMITS");
                if (line.startsWith("REWRITE ")) {
                    rewrites++;
                }
                if (killedDuring == null && limits && rewrites >= killAt) {
                    // SIGKILL through kill(1): no shutdown hook, no close, no flush.
                    new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor();
                    killedDuring = line;
                }
            }
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(137, p.exitValue(), "the child must die by SIGKILL; it printed " + seen);
        return killedDuring;
    }
}
