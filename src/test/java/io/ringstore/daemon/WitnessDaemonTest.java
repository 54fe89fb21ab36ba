package io.ringstore.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.RingStoreClient;
import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupOptions;
import io.ringstore.consensus.GroupState;
import io.ringstore.consensus.VoterGroup;
import io.ringstore.error.NotPrimaryException;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.replication.tls.TlsMaterial;
import io.ringstore.replication.tls.TlsSockets;
import io.ringstore.testsupport.FreePorts;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real witness: {@code ringstore serve} with {@code role = witness} in a child JVM with a
 * 32 MiB heap, over mutual TLS with keys made as keygen makes them. Alone it answers status
 * (role witness, one voter of three reachable, no leader) and refuses appends with NOT_PRIMARY
 * naming no primary; with two voters of this test's JVM (a and b) it joins a group that elects
 * a leader, and once the group committed "a is primary in epoch 1" its NOT_PRIMARY names a, its
 * group address and the epoch, on the protobuf socket (Java client), the JSON-lines socket and
 * through the Python client. It writes no log. Then two real data daemons take over a's and b's
 * group state: the three daemons form a group with a leader, every voter reachable, and the
 * committed state carried over. Prints the witness's RSS and start-up time.
 */
@Timeout(240)
class WitnessDaemonTest {
    @TempDir
    Path dir;

    private static Path keys;
    /** The default (3 s); the daemons get it as group_election_timeout_ms, the test's voters likewise. */
    private static final long ELECTION_MILLIS = GroupConfig.DEFAULT_ELECTION_TIMEOUT_MILLIS;
    private final List<Process> children = new ArrayList<>();
    private final Map<String, ConcurrentLinkedQueue<String>> output = new LinkedHashMap<>();
    private final List<VoterGroup> voters = new ArrayList<>();

    @BeforeAll
    static void makeKeys() throws Exception {
        keys = GroupKeys.get().toAbsolutePath();
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        voters.forEach(VoterGroup::close);
        for (Process p : children) {
            p.toHandle().destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aWitnessVotesHoldsNoEventsAndNamesThePrimary() throws Exception {
        int pa = FreePorts.next();
        int pb = FreePorts.next();
        int pw = FreePorts.next();
        String votersFlag = "a=127.0.0.1:" + pa + ", b=127.0.0.1:" + pb + ", w=127.0.0.1:" + pw;
        Path wData = dir.resolve("w");
        Path wSocket = Files.createDirectories(dir.resolve("w-run")).resolve("s.sock");

        // --- the witness alone ------------------------------------------------------------
        long started = System.nanoTime();
        // As systemd/ringstore-witness.conf runs it.
        Process witness = start("w", List.of("-Xms8m", "-Xmx32m", "-XX:MaxMetaspaceSize=48m",
                "-XX:ReservedCodeCacheSize=24m", "-XX:MaxDirectMemorySize=8m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:-UsePerfData"),
                "--role", "witness", "--data", wData.toString(), "--socket", wSocket.toString(), "--leds", "off",
                "--status-interval-seconds", "1", "--group-voters", votersFlag, "--group-listen", "127.0.0.1:" + pw,
                "--group-election-timeout-ms", Long.toString(ELECTION_MILLIS),
                "--replication-key-store", keys.resolve("w/w.p12").toString(),
                "--replication-peer-certs", keys.resolve("w/peers").toString());
        awaitLine("w", l -> l.contains("ready: role=witness"), 60_000);
        long readyMillis = (System.nanoTime() - started) / 1_000_000;

        StatusResponse alone = status(wSocket);
        assertEquals("witness", alone.getReplicationRole());
        assertEquals("w", alone.getGroupBoard());
        assertEquals(3, alone.getVotersTotal());
        assertEquals(1, alone.getVotersReachable(), "alone: only itself");
        assertEquals("", alone.getGroupLeader(), "no majority, no leader");
        assertEquals(List.of("a 127.0.0.1:" + pa + " unreachable", "b 127.0.0.1:" + pb + " unreachable",
                "w 127.0.0.1:" + pw + " self"), alone.getVotersList());
        assertEquals(0, alone.getCommittedPosition());
        NotPrimaryException none = refusedAppend(wSocket);
        assertNull(none.primaryBoard(), "nothing committed yet: " + none.getMessage());
        assertEquals(-1, none.primaryEpoch());
        assertTrue(none.getMessage().contains("witness") && none.getMessage().contains("no primary yet"), none.getMessage());

        // --- two voters join: a leader, then "a is primary in epoch 1" -------------------------
        Map<String, InetSocketAddress> all = new LinkedHashMap<>();
        all.put("a", InetSocketAddress.createUnresolved("127.0.0.1", pa));
        all.put("b", InetSocketAddress.createUnresolved("127.0.0.1", pb));
        all.put("w", InetSocketAddress.createUnresolved("127.0.0.1", pw));
        VoterGroup a = voter("a", all, dir.resolve("a"));
        voter("b", all, dir.resolve("b"));
        GroupState committed = propose(a, new GroupChange.NewPrimary(0, 1, "a", List.of("a", "b")));
        assertEquals(new GroupState(1, "a", List.of("a", "b"), committed.index()), committed);
        StatusResponse joined = awaitStatus(wSocket, s -> s.getGroupEpoch() == 1 && s.getVotersReachable() == 3
                && !s.getGroupLeader().isEmpty());
        assertEquals("a", joined.getGroupPrimary());
        assertEquals(List.of("a", "b"), joined.getInSyncList());
        assertEquals("127.0.0.1:" + pa, joined.getGroupPrimaryAddress());
        assertTrue(joined.getGroupIndex() >= committed.index());

        NotPrimaryException named = refusedAppend(wSocket);
        assertEquals("a", named.primaryBoard());
        assertEquals("127.0.0.1:" + pa, named.primaryAddress(), "the primary's group address");
        assertEquals(1, named.primaryEpoch());
        String json = jsonLine(dir.resolve("w-run/json.sock"), "{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\",\"data\":1}");
        assertTrue(json.startsWith("{\"error\":\"NOT_PRIMARY\"") && json.contains("\"primary_board\":\"a\"")
                && json.contains("\"primary_address\":\"127.0.0.1:" + pa + "\"") && json.contains("\"primary_epoch\":1"), json);
        String python = python(wSocket);
        if (python != null) {
            assertEquals("NOT_PRIMARY a 127.0.0.1:" + pa + " 1", python.strip());
        }
        long rssWithGroupKb = rssKb(witness);

        // --- the voters go: the witness says so and reaches no majority ------------------------
        voters.forEach(VoterGroup::close);
        voters.clear();
        awaitLine("w", l -> l.contains("group: NO MAJORITY"), 60_000);
        assertTrue(journal("w").stream().anyMatch(l -> l.contains("WARN: group: voter a at 127.0.0.1:" + pa + " unreachable")),
                "the journal names the voter lost");
        assertEquals(1, awaitStatus(wSocket, s -> s.getVotersReachable() == 1).getVotersReachable());

        // --- two data daemons take over a's and b's group state: a group of three daemons -----
        int ra = FreePorts.next();
        int rb = FreePorts.next();
        Path aSocket = Files.createDirectories(dir.resolve("a-run")).resolve("s.sock");
        Path bSocket = Files.createDirectories(dir.resolve("b-run")).resolve("s.sock");
        start("a", List.of("-Xmx128m", "-XX:+UseSerialGC"), dataBoard("a", "b", rb, ra, aSocket, votersFlag, pa, "primary"));
        start("b", List.of("-Xmx128m", "-XX:+UseSerialGC"), dataBoard("b", "a", ra, rb, bSocket, votersFlag, pb, "standby"));
        // A restarted voter applies its restored log once the new leader's first commit tells it the
        // commit index: so the epoch is awaited, not read once a leader is known (CI once read 0
        // in between). That epoch 1 is the old state, not a new bootstrap, is checked below.
        StatusResponse sa = awaitStatus(aSocket, s -> s.getVotersReachable() == 3 && !s.getGroupLeader().isEmpty()
                && s.getGroupEpoch() == 1);
        StatusResponse sb = awaitStatus(bSocket, s -> s.getVotersReachable() == 3 && s.getGroupLeader().equals(sa.getGroupLeader())
                && s.getGroupEpoch() == 1);
        StatusResponse sw = awaitStatus(wSocket, s -> s.getVotersReachable() == 3 && s.getGroupLeader().equals(sa.getGroupLeader())
                && s.getGroupEpoch() == 1);
        for (String board : List.of("a", "b", "w")) {
            assertTrue(journal(board).stream().noneMatch(l -> l.contains("bootstrap:")),
                    board + ": the group found the committed state, no controller bootstrapped a new one");
        }
        for (StatusResponse s : List.of(sa, sb, sw)) {
            assertEquals(1, s.getGroupEpoch(), "the committed state outlived the voters that made it");
            assertEquals("a", s.getGroupPrimary());
        }
        assertEquals("a", sa.getGroupBoard());
        assertEquals("primary", sa.getReplicationRole());
        assertEquals("standby", sb.getReplicationRole());
        // The standby names its primary (its replication address: it follows a's log there).
        NotPrimaryException fromStandby = refusedAppend(bSocket);
        assertEquals("a", fromStandby.primaryBoard());
        assertEquals("127.0.0.1:" + ra, fromStandby.primaryAddress());
        // The primary acknowledges, saying in which epoch (JSON lines show AppendResponse.epoch).
        String ack = null;
        for (long until = System.nanoTime() + 30_000_000_000L; ack == null || ack.contains("NO_QUORUM"); ) {
            // A primary acknowledges once the group answered its first beat (its lease): until then NO_QUORUM.
            ack = jsonLine(dir.resolve("a-run/json.sock"), "{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\",\"data\":1}");
            if (ack.contains("NO_QUORUM") && System.nanoTime() > until) {
                fail("the primary never got its lease: " + ack);
            }
        }
        assertTrue(ack.contains("\"version\":0") && ack.contains("\"epoch\":0"), ack);
        awaitLine("a", l -> l.startsWith("<6>status ") && l.contains(" group=leader:") && l.contains(" voters=3/3"), 30_000);
        awaitLine("w", l -> l.startsWith("<6>status role=witness board=w group=leader:") && l.contains("voters=3/3"), 30_000);
        long rssKb = rssKb(witness);

        // --- the witness stops cleanly, having written no log -----------------------------------
        witness.destroy();
        assertTrue(witness.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, witness.exitValue(), "SIGTERM: exit 0");
        try (Stream<Path> s = Files.list(wData)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("group", "lock"), names, "a witness holds its Raft state and its lock, nothing else");
        }
        assertFalse(Files.exists(wData.resolve("log")));
        System.out.println("witness: ready " + readyMillis + " ms after start; RSS " + rssWithGroupKb / 1024
                + " MiB in a group of a witness and two in-process voters, " + rssKb / 1024
                + " MiB with two data daemons (-Xmx32m, serial GC, C1 only, MALLOC_ARENA_MAX=2)");
    }

    private String[] dataBoard(String me, String peer, int peerReplication, int replication, Path socket, String votersFlag,
                               int groupPort, String role) {
        List<String> f = new ArrayList<>(List.of("--data", dir.resolve(me).toString(), "--socket", socket.toString(),
                "--leds", "off", "--segment-size", "65536", "--status-interval-seconds", "1", "--role", role,
                "--ack-mode", "local", "--replication-listen", "127.0.0.1:" + replication,
                "--replication-peers", peer + "=127.0.0.1:" + peerReplication,
                "--replication-key-store", keys.resolve(me + "/" + me + ".p12").toString(),
                "--replication-peer-certs", keys.resolve(me + "/peers").toString(),
                "--group-voters", votersFlag, "--group-listen", "127.0.0.1:" + groupPort,
                "--group-election-timeout-ms", Long.toString(ELECTION_MILLIS)));
        if (role.equals("standby")) {
            f.addAll(List.of("--replication-primary", peer));
        }
        return f.toArray(String[]::new);
    }

    /** A voter of this JVM with the board's real key, its Raft state where that board's daemon will find it. */
    private VoterGroup voter(String name, Map<String, InetSocketAddress> all, Path data) throws Exception {
        List<String> others = all.keySet().stream().filter(n -> !n.equals(name)).toList();
        TlsSockets sockets = new TlsSockets(TlsMaterial.load(keys.resolve(name + "/" + name + ".p12"),
                keys.resolve(name + "/peers"), others), TlsSockets.DEFAULT_HANDSHAKE_TIMEOUT_MILLIS);
        VoterGroup v = VoterGroup.start(new GroupOptions(name, all, all.get(name), data.resolve("group"), sockets,
                ELECTION_MILLIS, GroupConfig.heartbeat(ELECTION_MILLIS),
                GroupOptions.DEFAULT_REQUEST_TIMEOUT_MILLIS));
        voters.add(v);
        return v;
    }

    /** Proposes until the group (leader elected by then) has committed it. */
    private static GroupState propose(VoterGroup v, GroupChange change) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                return v.propose(change).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200); // no leader yet: the group is still electing
            }
        }
    }

    private Process start(String board, List<String> jvm, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        Process p = pb.start();
        ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
        synchronized (output) {
            output.put(board, out);
        }
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.add(line);
                    if (line.contains("group") || line.contains("ERROR") || line.contains("ready")) {
                        System.out.println("[" + board + "] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        children.add(p);
        return p;
    }

    private List<String> journal(String board) {
        synchronized (output) {
            return List.copyOf(output.get(board));
        }
    }

    private void awaitLine(String board, Predicate<String> line, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (journal(board).stream().noneMatch(line)) {
            if (System.nanoTime() > deadline) {
                fail("no such line from " + board + " within " + millis + " ms; its journal:\n"
                        + String.join("\n", journal(board)));
            }
            Thread.sleep(50);
        }
    }

    private static StatusResponse status(Path socket) throws Exception {
        try (RingStoreClient c = RingStoreClient.connect(socket)) {
            return c.status().get(20, TimeUnit.SECONDS);
        }
    }

    private static StatusResponse awaitStatus(Path socket, Predicate<StatusResponse> condition) throws Exception {
        long deadline = System.nanoTime() + 90_000_000_000L;
        StatusResponse last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = status(socket);
                if (condition.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                // not serving yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("status of " + socket + " never matched; last: " + last);
    }

    private static NotPrimaryException refusedAppend(Path socket) throws Exception {
        try (RingStoreClient c = RingStoreClient.connect(socket)) {
            c.append("s", ExpectedVersion.ANY, List.of(new EventData(null, "t", new byte[] {1}, new byte[0]))).join();
            throw new AssertionError("the append to " + socket + " was acknowledged");
        } catch (CompletionException e) {
            return assertInstanceOf(NotPrimaryException.class, e.getCause());
        }
    }

    private static String jsonLine(Path socket, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            while (true) {
                if (ch.read(in) < 0) {
                    break;
                }
                String s = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
                if (s.indexOf('\n') >= 0) {
                    return s.substring(0, s.indexOf('\n'));
                }
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The Python client's view of the witness's refusal ("NOT_PRIMARY board address epoch"), or
     * null when python3 with protobuf or protoc is missing (a failure under RINGSTORE_REQUIRE_PYTHON=1).
     */
    private String python(Path socket) throws Exception {
        boolean tools = Files.isExecutable(Path.of("/usr/bin/python3")) && run(List.of("/usr/bin/python3", "-c",
                "import google.protobuf"), null) == 0 && run(List.of("sh", "-c", "command -v protoc"), null) == 0;
        if (!tools) {
            if ("1".equals(System.getenv("RINGSTORE_REQUIRE_PYTHON"))) {
                fail("RINGSTORE_REQUIRE_PYTHON=1 but python3-protobuf or protoc is missing");
            }
            System.out.println("SKIPPED the Python client's NOT_PRIMARY check: no python3-protobuf or protoc");
            return null;
        }
        Path out = dir.resolve("python");
        assertEquals(0, run(List.of("sh", "src/main/python/build.sh", out.toString()), null), "build.sh");
        Path result = dir.resolve("python.out");
        String script = """
                import sys, ringstore
                with ringstore.Client(sys.argv[1], timeout=20) as c:
                    try:
                        c.append("s", [ringstore.NewEvent("t", {"n": 1})])
                        print("APPENDED")
                    except ringstore.NotPrimary as e:
                        print("NOT_PRIMARY", e.primary_board, e.primary_address, e.primary_epoch)
                """;
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", "-c", script, socket.toString())
                .redirectErrorStream(true).redirectOutput(result.toFile());
        pb.environment().put("PYTHONPATH", out.toAbsolutePath().toString());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python timed out");
        String text = Files.readString(result);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    private static int run(List<String> cmd, Path outFile) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(outFile == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(outFile.toFile()))
                .start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private static long rssKb(Process p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + p.pid());
    }
}
