package io.ringstore.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.RingStore;
import io.ringstore.writer.EventData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real store process with SIGKILL in the middle of concurrent appends, over and over on
 * the same folder, and checks after each kill that every append the child acknowledged is read
 * back intact, where it was acknowledged, and that every stream's versions run 0..n without a
 * hole or a duplicate.
 *
 * <p>Seeded: {@code -Dringstore.crash.seed=N} replays a run (the kill points follow the seed; the
 * exact interleaving of the producers does not). {@code -Dringstore.crash.rounds=N} changes the
 * number of rounds.
 */
class CrashRecoveryTest {
    private static final long SEED = Long.getLong("ringstore.crash.seed", 0x5EED_2026L);
    private static final int ROUNDS = Integer.getInteger("ringstore.crash.rounds", 20);
    private static final int PRODUCERS = 6;
    private static final int STREAMS = 100;
    private static final int MAX_ACKS_BEFORE_KILL = 600;
    private static final long LINE_TIMEOUT_SECONDS = 30;
    /** What {@link Process#exitValue()} reports on Linux for a process ended by signal 9. */
    private static final int KILLED_BY_SIGKILL = 128 + 9;
    private static final String EOF = "\u0000EOF";
    private static final String READ_FAILED = "\u0000reading the child's output failed: ";

    @TempDir
    Path tmp;

    /** One acknowledged append, as the child printed it. */
    record Ack(String stream, long firstVersion, long lastVersion, long firstPosition, long lastPosition,
               byte[] eventIds, long digest) {
        int events() {
            return (int) (lastVersion - firstVersion + 1);
        }

        @Override
        public String toString() {
            return "ack stream=" + stream + " versions=" + firstVersion + ".." + lastVersion + " positions="
                    + firstPosition + ".." + lastPosition + " ids=" + HexFormat.of().formatHex(eventIds);
        }
    }

    /** What one child run printed. */
    record Round(String childRecovery, List<Ack> acks, int acksAfterKill, List<String> warnings, long readyMillis,
                 long runMillis) {}

    @Test
    void acknowledgedAppendsSurviveSigkillRoundAfterRound() throws Exception {
        Path data = tmp.resolve("data");
        Random random = new Random(SEED);
        List<Ack> acked = new ArrayList<>();
        List<LogRecord> previousLog = List.of();
        long started = System.nanoTime();
        log("seed=" + SEED + " rounds=" + ROUNDS + " producers=" + PRODUCERS + " streams=" + STREAMS);
        for (int round = 0; round < ROUNDS; round++) {
            // Every fifth round dies right after the store reported ready, before or while the
            // first appends go through; the others after a random number of acknowledgements.
            int target = round % 5 == 4 ? 0 : 1 + random.nextInt(MAX_ACKS_BEFORE_KILL);
            long roundStarted = System.nanoTime();
            Round r = runAndKill(data, round, target);
            acked.addAll(r.acks());
            List<LogRecord> log;
            String recovery;
            long reopened = System.nanoTime();
            try (RingStore store = RingStore.open(CrashChild.config(data))) {
                recovery = store.recovery().summary();
                log = readAll(store);
            }
            int events = check(log, acked, previousLog);
            int ackedEvents = acked.stream().mapToInt(Ack::events).sum();
            log(String.format("round %2d: kill after %3d acks: saw %3d acks (%d after the kill), log now %5d records"
                            + " (%d acknowledged, %d forced but unacknowledged), %d segments; ms: child ready %d, appending %d,"
                            + " reopen+check %d, round %d%n"
                            + "          child opened: %s%n          reopen: %s%s",
                    round, target, r.acks().size(), r.acksAfterKill(), log.size(), ackedEvents, events - ackedEvents,
                    countSegments(data), r.readyMillis(), r.runMillis(), (System.nanoTime() - reopened) / 1_000_000,
                    (System.nanoTime() - roundStarted) / 1_000_000, r.childRecovery(), recovery,
                    r.warnings().isEmpty() ? "" : "\n          child warnings: " + r.warnings()));
            previousLog = log;
        }
        assertTrue(countSegments(data) > 3, "the run should have rolled over several segments");
        log("total " + (System.nanoTime() - started) / 1_000_000 + " ms for " + ROUNDS + " rounds, "
                + acked.size() + " acknowledged appends checked after every round");
    }

    /** Starts the child, waits for {@code target} acknowledgements, kills it with SIGKILL, drains its output. */
    private Round runAndKill(Path data, int round, int target) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path stderr = tmp.resolve("child-" + round + ".err");
        long started = System.nanoTime();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                data.toString(), Long.toString(SEED), Integer.toString(round), Integer.toString(PRODUCERS),
                Integer.toString(STREAMS))
                .redirectError(stderr.toFile())
                .start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().daemon().name("child-stdout-" + round).start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add(READ_FAILED + e);
            } finally {
                lines.add(EOF);
            }
        });
        Output out = new Output(child, stderr);
        try {
            while (out.ready == null || out.acks.size() < target) {
                String line = next(lines, child, stderr);
                if (line == EOF) {
                    fail("child ended before it was killed: exit=" + child.waitFor() + "\n" + Files.readString(stderr));
                }
                out.handle(line);
            }
            int beforeKill = out.acks.size();
            long readyMillis = (out.readyNanos - started) / 1_000_000;
            // Through the ProcessHandle: Process.destroyForcibly() would also close our end of the
            // child's stdout, losing acknowledgements still in the pipe. The exit value below
            // proves the signal was SIGKILL.
            assertTrue(child.toHandle().destroyForcibly(), "kill request refused");
            // Acknowledgements printed before the child died count too: read to the end of its output.
            for (String line; (line = next(lines, child, stderr)) != EOF; ) {
                out.handle(line);
            }
            assertTrue(child.waitFor(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS), "killed child did not end");
            assertEquals(KILLED_BY_SIGKILL, child.exitValue(), "Process.destroyForcibly() must send SIGKILL");
            reader.join();
            return new Round(out.ready, out.acks, out.acks.size() - beforeKill, out.warnings, readyMillis,
                    (System.nanoTime() - out.readyNanos) / 1_000_000);
        } finally {
            child.destroyForcibly();
        }
    }

    private static String next(BlockingQueue<String> lines, Process child, Path stderr) throws Exception {
        String line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (line == null) {
            child.destroyForcibly();
            fail("child printed nothing for " + LINE_TIMEOUT_SECONDS + " s\n" + Files.readString(stderr));
        }
        return line;
    }

    /** The child's standard output, parsed line by line. */
    private static final class Output {
        final Process child;
        final Path stderr;
        final List<Ack> acks = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();
        String ready;
        long readyNanos;
        String incomplete;

        Output(Process child, Path stderr) {
            this.child = child;
            this.stderr = stderr;
        }

        void handle(String line) throws IOException {
            if (line.startsWith(READ_FAILED)) {
                fail(line);
            }
            if (incomplete != null) {
                fail("a line without its end marker was followed by more output: " + incomplete);
            }
            if (line.startsWith("<3>") || line.startsWith("<4>")) {
                warnings.add(line);
                return;
            }
            if (line.startsWith("<")) {
                return; // the child's info log lines
            }
            if (!line.endsWith(CrashChild.END)) {
                // Cannot happen (each line is one atomic write); if it did, only as the child's
                // last words, and then it is no acknowledgement.
                incomplete = line;
                warnings.add("incomplete last line: " + line);
                return;
            }
            String[] f = line.substring(0, line.length() - CrashChild.END.length()).split(" ");
            switch (f[0]) {
                case "READY" -> {
                    ready = f[1];
                    readyNanos = System.nanoTime();
                }
                case "ACK" -> acks.add(new Ack(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                        Long.parseLong(f[5]), HexFormat.of().parseHex(f[6]), Long.parseLong(f[7])));
                case "ERR" -> fail("an append failed in the child: " + line + "\n" + Files.readString(stderr));
                default -> fail("unexpected line from the child: " + line + "\n" + Files.readString(stderr));
            }
        }
    }

    /**
     * Checks the recovered log against every acknowledgement so far and against the log after
     * the previous round (which was closed cleanly, so it must be a prefix of this one).
     *
     * @return the number of records
     */
    private static int check(List<LogRecord> log, List<Ack> acked, List<LogRecord> previousLog) {
        assertTrue(log.size() >= previousLog.size(), "the log lost records of an earlier round");
        for (int i = 0; i < previousLog.size(); i++) {
            assertEquals(previousLog.get(i), log.get(i), "record " + i + " of an earlier round changed");
        }
        Map<String, List<Integer>> byStream = new HashMap<>();
        Set<ByteString> ids = new HashSet<>();
        long previousPosition = -1;
        for (int i = 0; i < log.size(); i++) {
            LogRecord r = log.get(i);
            assertTrue(r.getPosition() > previousPosition, "positions must increase: " + r.getPosition());
            previousPosition = r.getPosition();
            List<Integer> versions = byStream.computeIfAbsent(r.getStream(), s -> new ArrayList<>());
            assertEquals(versions.size(), r.getVersion(),
                    "stream " + r.getStream() + " must be contiguous from 0, at position " + r.getPosition());
            versions.add(i);
            assertTrue(ids.add(r.getEventId()), "event id written twice, at position " + r.getPosition());
            assertEquals("crash-test", r.getType());
            assertArrayEquals(CrashChild.payload(r.getEventId().toByteArray()), r.getData().toByteArray(),
                    "payload does not match its event id at position " + r.getPosition());
        }
        for (Ack a : acked) {
            List<Integer> versions = byStream.get(a.stream());
            assertNotNull(versions, "acknowledged stream missing: " + a);
            assertTrue(a.lastVersion() < versions.size(), "acknowledged versions missing: " + a
                    + " stream has " + versions.size());
            int first = versions.get((int) a.firstVersion());
            List<EventData> events = new ArrayList<>();
            for (int k = 0; k < a.events(); k++) {
                LogRecord r = log.get(first + k);
                assertEquals(a.stream(), r.getStream(), "an append's events must be adjacent in the log: " + a);
                assertEquals(a.firstVersion() + k, r.getVersion());
                assertArrayEquals(java.util.Arrays.copyOfRange(a.eventIds(), k * 16, k * 16 + 16),
                        r.getEventId().toByteArray(), "event id of " + a);
                events.add(new EventData(r.getEventId().toByteArray(), r.getType(), r.getData().toByteArray(), null));
            }
            assertEquals(a.firstPosition(), log.get(first).getPosition(), "first position of " + a);
            assertEquals(a.lastPosition(), log.get(first + a.events() - 1).getPosition(), "last position of " + a);
            assertEquals(a.digest(), CrashChild.digest(events), "payload digest of " + a);
        }
        return log.size();
    }

    private static List<LogRecord> readAll(RingStore store) {
        List<LogRecord> out = new ArrayList<>();
        long position = 0;
        while (true) {
            MainLog.ReadBatch b = store.readLog(position, 4096);
            if (b.records().isEmpty()) {
                return out;
            }
            out.addAll(b.records());
            position = b.next();
        }
    }

    private static long countSegments(Path data) throws IOException {
        try (var files = Files.list(data.resolve("log"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg")).count();
        }
    }

    private static void log(String line) {
        System.out.println("[crash] " + line);
    }
}
