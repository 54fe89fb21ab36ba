package io.ringstore.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a real child JVM while it appends and its splitter splits, many times on the same
 * folder; after each round every stream file must hold exactly its stream's events in version
 * order, no gap, no duplicate, and every acknowledged event must be there.
 */
class SplitterCrashTest {
    private static final int ROUNDS = 12;
    /** A round prints at most ~1,550 acks; on a stalled 2-core machine that takes seconds, not minutes. */
    private static final long ROUND_TIMEOUT_SECONDS = 120;

    @TempDir
    Path dir;

    @Test
    void streamFilesSurviveRepeatedSigkill() throws Exception {
        Random random = new Random(7);
        Map<String, TreeMap<Long, String>> acked = new HashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            int killAfter = 50 + random.nextInt(1500);
            int seen = runAndKill(round, killAfter, acked);
            System.out.printf("round %d: killed after %d acks%n", round, seen);
            verify(acked);
        }
    }

    private int runAndKill(int round, int killAfter, Map<String, TreeMap<Long, String>> acked) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), SplitterCrashChild.class.getName(), dir.toString(),
                Integer.toString(round))).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        int acks = 0;
        // The read loop ends only when the child's output does: a child that hangs (or never
        // gets to killAfter acks) is killed at the deadline and the round fails.
        AtomicBoolean timedOut = new AtomicBoolean();
        CompletableFuture<Void> watchdog = CompletableFuture.runAsync(() -> {
            timedOut.set(true);
            p.destroyForcibly();
        }, CompletableFuture.delayedExecutor(ROUND_TIMEOUT_SECONDS, TimeUnit.SECONDS));
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean killed = false;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    String[] f = line.split(" ");
                    String previous = acked.computeIfAbsent(f[1], k -> new TreeMap<>()).put(Long.parseLong(f[2]), f[3]);
                    assertNull(previous, "two acks for one version: " + line);
                    acks++;
                    if (!killed && acks >= killAfter) {
                        // SIGKILL through the process handle (Process.destroyForcibly would also
                        // close our end of its stdout); acks it printed before dying still count.
                        new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor();
                        killed = true;
                    }
                }
            }
        } finally {
            watchdog.cancel(false);
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertFalse(timedOut.get(), "round " + round + ": the child did not print " + killAfter + " acks within "
                + ROUND_TIMEOUT_SECONDS + " s (it printed " + acks + ")");
        assertEquals(137, p.exitValue(), "the child must die by SIGKILL");
        return acks;
    }

    private void verify(Map<String, TreeMap<Long, String>> acked) throws Exception {
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(128 << 10)
                .withPressureGauge(() -> PressureReading.CALM)
                .withSplitter(SplitterOptions.defaults().withWindow(8 << 10, 5).withRetention(0, 256 << 10));
        try (RingStore store = RingStore.open(config)) {
            SplitterTestSupport.await(store, () -> store.splitterStatus().lagEvents() == 0, "catch up after restart");
            StreamFiles files = new StreamFiles(config.streamsDir(), 1, 1);
            for (Map.Entry<String, TreeMap<Long, String>> e : acked.entrySet()) {
                String stream = e.getKey();
                Path file = files.pathFor(stream);
                assertTrue(Files.exists(file), "no file for " + stream);
                long expectedLast = store.readStream(stream, -1, 1, Direction.BACKWARD).lastVersion();
                long v = 0;
                Map<Long, String> inFile = new HashMap<>();
                try (StreamFileReader r = StreamFileReader.open(file, stream)) {
                    LogRecord rec;
                    while ((rec = r.next()) != null) {
                        assertEquals(v, rec.getVersion(), stream + ": gap or duplicate in the stream file");
                        inFile.put(v, rec.getData().toStringUtf8());
                        v++;
                    }
                    assertNull(r.stopReason(), stream + ": " + r.stopReason());
                }
                assertEquals(expectedLast + 1, v, stream + ": file holds versions 0.." + (v - 1));
                // Every acknowledged event, by the version it was acknowledged at, is in the file
                // with the payload that was acknowledged.
                for (Map.Entry<Long, String> a : e.getValue().entrySet()) {
                    assertEquals(a.getValue(), inFile.get(a.getKey()),
                            stream + " v" + a.getKey() + ": acknowledged event missing or different in the stream file");
                }
            }
        }
    }
}
