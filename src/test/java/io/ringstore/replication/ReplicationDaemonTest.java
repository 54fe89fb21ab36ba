package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.PromoteResponse;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real daemons (child JVMs) on loopback, over mutual TLS with keys made as keygen makes them: the standby is SIGKILLed and restarted and catches
 * up; then the primary is SIGKILLed and the standby promoted with {@code ringstore promote}'s
 * request over its Unix socket. Every event the primary acknowledged is read back from the
 * promoted board; the old primary restarts, finds the newer epoch and follows it.
 *
 * <p>The primary runs ack_mode replica-memory, but in this branch its writer does not yet wait
 * for the standby (the ack-mode work does), so before each kill the test waits until the standby
 * holds what the primary acknowledged, as replica-memory would have.
 */
@Timeout(120)
class ReplicationDaemonTest {
    @TempDir
    Path dir;

    private final List<Process> children = new ArrayList<>();

    @TempDir
    static Path keys;

    /** Real keys made as keygen makes them; each board trusts the other's certificate. */
    @org.junit.jupiter.api.BeforeAll
    static void makeKeys() throws Exception {
        for (String b : List.of("b1", "b2")) {
            io.ringstore.replication.tls.BoardKeys.generate(b, keys.resolve(b), 30, "-1d", null);
        }
        for (String[] pair : new String[][] {{"b1", "b2"}, {"b2", "b1"}}) {
            Path peers = java.nio.file.Files.createDirectories(keys.resolve(pair[0]).resolve("peers"));
            java.nio.file.Files.copy(keys.resolve(pair[1]).resolve(pair[1] + ".crt"), peers.resolve(pair[1] + ".crt"));
        }
    }

    private record Board(String name, int port, Path data, Path socket) {}

    @AfterEach
    void killAll() throws InterruptedException {
        for (Process p : children) {
            p.toHandle().destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Each board its own data folder and socket folder (the JSON socket goes beside the socket). */
    private Board board(String name) throws IOException {
        Path sockets = java.nio.file.Files.createDirectories(dir.resolve(name + "-run"));
        return new Board(name, freePort(), dir.resolve(name), sockets.resolve("s.sock"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Process start(Board me, Board other, String role) throws IOException {
        return start(me, other, role, "replica-memory");
    }

    private Process start(Board me, Board other, String role, String ackMode) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve",
                "--data", me.data().toString(), "--socket", me.socket().toString(), "--leds", "off",
                "--segment-size", "65536", "--role", role, "--ack-mode", ackMode,
                "--replication-listen", "127.0.0.1:" + me.port(),
                "--replication-peers", other.name() + "=127.0.0.1:" + other.port(),
                "--replication-key-store", keys.resolve(me.name()).resolve(me.name() + ".p12").toString(),
                "--replication-peer-certs", keys.resolve(me.name()).resolve("peers").toString()));
        if (role.equals("standby")) {
            cmd.addAll(List.of("--replication-primary", other.name()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.add(line);
                    if (line.contains("replication") || line.contains("ERROR")) {
                        System.out.println("[" + me.name() + "] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        children.add(p);
        return p;
    }

    private static RingStoreClient connect(Board b) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                return RingStoreClient.connect(b.socket());
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("daemon " + b.name() + " did not start serving", e);
                }
                Thread.sleep(100);
            }
        }
    }

    private static void kill(Process p) throws InterruptedException {
        assertTrue(p.toHandle().destroyForcibly(), "SIGKILL refused");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    private static void await(String what, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static StatusResponse status(RingStoreClient c) {
        try {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Appends n events, one per append, and returns their acknowledgements. */
    private static List<AppendResult> append(RingStoreClient c, String stream, int n) throws Exception {
        List<AppendResult> acks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            acks.add(c.append(stream, ExpectedVersion.ANY, List.of(EventData.of("reading",
                    ("value " + i + " " + "x".repeat(300)).getBytes(StandardCharsets.UTF_8)))).get(10, TimeUnit.SECONDS));
        }
        return acks;
    }

    /** The standby's reads reach what the primary acknowledged (it commits only what the primary told it). */
    private static void awaitStandbyHolds(RingStoreClient primary, RingStoreClient standby) throws InterruptedException {
        long acknowledged = status(primary).getCommittedPosition();
        await("standby holds position " + acknowledged, () -> status(standby).getCommittedPosition() >= acknowledged);
    }

    @Test
    void acknowledgedEventsSurviveAStandbyKillAndAPrimaryKillWithPromotion() throws Exception {
        Board b1 = board("b1");
        Board b2 = board("b2");
        Process primary = start(b1, b2, "primary");
        Process standby = start(b2, b1, "standby");
        List<AppendResult> acked = new ArrayList<>();
        try (RingStoreClient p = connect(b1)) {
            acked.addAll(append(p, "sensor", 150));
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
                assertEquals("standby", status(s).getReplicationRole());
            }
            kill(standby);
            // No silent fallback: with the standby gone an append waits (bounded), then fails
            // typed; it is in the primary's log but not readable, and a retry with the same id
            // learns its fate once a standby holds it.
            byte[] id = new byte[EventData.EVENT_ID_LENGTH];
            id[0] = 42;
            EventData unheld = new EventData(id, "reading", "while the standby is down".getBytes(StandardCharsets.UTF_8), null);
            java.util.concurrent.ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> p.append("sensor", ExpectedVersion.exactly(149), List.of(unheld)).get(30, TimeUnit.SECONDS));
            assertEquals(io.ringstore.error.ErrorCode.REPLICA_UNAVAILABLE,
                    ((io.ringstore.error.RingStoreException) refused.getCause()).code(), refused.toString());
            assertEquals(0, p.readStream("sensor", 150, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS)
                    .events().size(), "an append no standby holds is not readable");
            // The operator lets the primary go on alone, explicitly; the answers say so.
            assertTrue(p.setSolo(true).get(10, TimeUnit.SECONDS).getSolo());
            List<AppendResult> solo = append(p, "sensor", 150); // while the standby is down
            assertEquals(io.ringstore.replication.AckMode.LOCAL, solo.getLast().ackMode(), "solo answers say local");
            acked.addAll(solo);
            standby = start(b2, b1, "standby");
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
            }
            assertTrue(!p.setSolo(false).get(10, TimeUnit.SECONDS).getSolo());
            AppendResult retried = p.append("sensor", ExpectedVersion.exactly(149), List.of(unheld)).get(30, TimeUnit.SECONDS);
            assertTrue(retried.replayed(), "the retry of the unheld append is answered as a replay");
            assertEquals(150, retried.firstVersion());
            acked.add(retried);
            acked.addAll(append(p, "other", 100));
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
            }
        }
        kill(primary);

        try (RingStoreClient s = connect(b2)) {
            PromoteResponse promoted = s.promote(false).get(30, TimeUnit.SECONDS);
            assertEquals(1, promoted.getEpoch());
            assertTrue(promoted.getMessage().startsWith("safe"), promoted.getMessage());
            for (AppendResult a : acked) {
                List<RecordedEvent> events = s.readStream(a.stream(), a.firstVersion(), 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS).events();
                assertEquals(1, events.size(), "acknowledged " + a.stream() + "@" + a.firstVersion() + " is on the promoted board");
                assertEquals(a.firstPosition(), events.getFirst().position());
            }
            assertEquals("primary", status(s).getReplicationRole());

            // The old primary comes back configured as primary: it finds epoch 1 on b2 and follows
            // it; the new primary (replica-memory) acknowledges again once its standby holds.
            start(b1, b2, "primary");
            try (RingStoreClient old = connect(b1)) {
                long end = status(s).getCommittedPosition();
                await("the old primary follows the new one", () -> {
                    StatusResponse st = status(old);
                    return st.getReplicationRole().equals("standby") && st.getCommittedPosition() >= end;
                });
                assertEquals(1, status(old).getEpoch());
                AppendResult after = s.append("sensor", ExpectedVersion.exactly(300),
                        List.of(EventData.of("reading", new byte[] {1}))).get(30, TimeUnit.SECONDS);
                assertEquals(301, after.firstVersion());
                assertEquals(io.ringstore.replication.AckMode.REPLICA_MEMORY, after.ackMode());
                await("the old primary holds the new primary's append", () -> status(old).getCommittedPosition() > after.lastPosition());
                assertEquals(301, old.readStream("sensor", 301, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS).events().getFirst().version());
            }
        }
    }

    /** Status through a fresh connection (a rejoining daemon drops its connections as it reopens). */
    private static StatusResponse freshStatus(Board b) {
        try (RingStoreClient c = RingStoreClient.connect(b.socket())) {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void aLivePrimaryFencedByAPromotionRejoinsAsAStandbyWithoutARestart() throws Exception {
        Board b1 = board("b1");
        Board b2 = board("b2");
        Process primary = start(b1, b2, "primary", "local");
        start(b2, b1, "standby", "local");
        try (RingStoreClient p = connect(b1); RingStoreClient s = connect(b2)) {
            append(p, "door", 50);
            awaitStandbyHolds(p, s);
            Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> s.promote(false).get(30, TimeUnit.SECONDS));
            assertTrue(String.valueOf(refused.getCause()).contains("acknowledged locally"), String.valueOf(refused.getCause()));
            assertEquals(1, s.promote(true).get(30, TimeUnit.SECONDS).getEpoch());
            append(s, "door", 10);
        }
        long pid = primary.pid();
        await("the old primary rejoined as a standby", () -> {
            StatusResponse st = freshStatus(b1);
            return st != null && st.getReplicationRole().equals("standby") && st.getEpoch() == 1;
        });
        assertTrue(primary.isAlive(), "rejoined in the same process");
        assertEquals(pid, primary.pid());
        try (RingStoreClient s = connect(b2); RingStoreClient old = connect(b1)) {
            long end = status(s).getCommittedPosition();
            await("the old primary caught up", () -> status(old).getCommittedPosition() >= end);
            assertEquals(59, old.readStream("door", 59, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS)
                    .events().getFirst().version());
            Exception notPrimary = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> old.append("door",
                    ExpectedVersion.ANY, List.of(EventData.of("x", new byte[] {1}))).get(10, TimeUnit.SECONDS));
            assertTrue(String.valueOf(notPrimary.getCause()).contains("standby"), String.valueOf(notPrimary.getCause()));
        }
    }
}
