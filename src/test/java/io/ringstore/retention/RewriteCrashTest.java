package io.ringstore.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a real child JVM while its compactor rewrites stream files (after a count limit was
 * set on every stream); afterwards each stream file is whole and fully before the rewrite (all
 * versions) or fully after it (exactly the kept ones), and reads give exactly the kept versions.
 * Most rounds fix the crash point (the child holds mid-batch, see {@link RewriteCrashChild}), so
 * which files are after their rewrite is known exactly; one round kills wherever the compactor is.
 */
class RewriteCrashTest {
    /** Per round, the rewrite the child holds at to be killed (0: killed wherever it is at a REWRITE line). */
    private static final int[] HOLD_AT = {1, 5, 12, 0};
    private static final int FREE_KILL_AT = 6;
    private static final long ROUND_TIMEOUT_SECONDS = 120;
    private static final int STREAMS = 12;
    private static final int EVENTS = 2000;
    private static final int KEEP = 800;

    @TempDir
    Path dir;

    @Test
    void eachStreamIsFullyBeforeOrAfterItsRewrite() throws Exception {
        int midRewrite = 0;
        int before = 0;
        int after = 0;
        for (int round = 0; round < HOLD_AT.length; round++) {
            Path data = dir.resolve("round-" + round);
            fill(data);
            int holdAt = HOLD_AT[round];
            Killed killed = runAndKill(data, holdAt);
            StreamFiles files = new StreamFiles(data.resolve("streams"), 1, 1);
            boolean tempLeft = false;
            Set<String> rewritten = new HashSet<>();
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
                    rewritten.add(stream);
                }
            }
            if (holdAt > 0) {
                // The crash point is known: the files the compactor had committed are after their
                // rewrite, every other one (the one held mid-batch included) before it.
                Set<String> committed = new HashSet<>(killed.order().subList(0, (int) killed.committed()));
                assertEquals(committed, rewritten, "round " + round + ": killed holding rewrite #" + holdAt
                        + " with " + killed.committed() + " committed, in the order " + killed.order());
            }
            midRewrite += tempLeft ? 1 : 0;
            System.out.printf("round %d: killed at %s (hold at #%d), committed before=%d, temp file left=%s%n", round,
                    killed.line(), holdAt, killed.committed(), tempLeft);
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
        // Deterministic: the held rounds fix how many files were committed (one per batch).
        assertTrue(before > 0 && after > 0, "the held rounds leave files on both sides: before=" + before + " after=" + after);
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

    /** Where the child was killed: the line, the rewrites it began in order, files committed before. */
    private record Killed(String line, List<String> order, long committed) {}

    /**
     * Runs the child and SIGKILLs it: at its HOLD line when {@code holdAt > 0} (a fixed crash
     * point), else at the {@link #FREE_KILL_AT}-th REWRITE line (wherever the compactor then is).
     */
    private static Killed runAndKill(Path data, int holdAt) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), RewriteCrashChild.class.getName(), data.toString(),
                Integer.toString(STREAMS), Integer.toString(KEEP), Integer.toString(holdAt)))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String killedDuring = null;
        long committed = -1;
        List<String> order = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        AtomicBoolean timedOut = new AtomicBoolean();
        CompletableFuture<Void> watchdog = CompletableFuture.runAsync(() -> {
            timedOut.set(true);
            p.destroyForcibly();
        }, CompletableFuture.delayedExecutor(ROUND_TIMEOUT_SECONDS, TimeUnit.SECONDS));
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean limits = false;
            while ((line = in.readLine()) != null) {
                seen.add(line);
                limits |= line.equals("LIMITS");
                String[] f = line.split(" ");
                boolean hold = line.startsWith("HOLD ");
                if (killedDuring != null || !(hold || line.startsWith("REWRITE "))) {
                    continue;
                }
                order.add(f[1]);
                if (hold || (holdAt == 0 && limits && order.size() >= FREE_KILL_AT)) {
                    // SIGKILL through kill(1): no shutdown hook, no close, no flush.
                    new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor();
                    killedDuring = line;
                    committed = Long.parseLong(f[2]);
                }
            }
        } finally {
            watchdog.cancel(false);
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertFalse(timedOut.get(), "the child was not killed within " + ROUND_TIMEOUT_SECONDS + " s; it printed " + seen);
        assertEquals(137, p.exitValue(), "the child must die by SIGKILL; it printed " + seen);
        assertTrue(killedDuring != null, "the child was never killed; it printed " + seen);
        return new Killed(killedDuring, order, committed);
    }
}
