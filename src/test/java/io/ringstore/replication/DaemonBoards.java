package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.testsupport.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Real daemons (child JVMs running {@code ringstore serve}) for the two-board tests: keys made as
 * keygen makes them, one data and socket folder per board, the replication flags, SIGKILL, and
 * the waits the tests need. Every child started is killed by {@link #close()}.
 */
final class DaemonBoards implements AutoCloseable {
    /** A board: its name, its replication port, data folder and protobuf socket. */
    record Board(String name, int port, Path data, Path socket) {
        InetSocketAddress replicationAddress() {
            return new InetSocketAddress("127.0.0.1", port);
        }
    }

    private final Path dir;
    private final Path keys;
    private final List<Process> children = new ArrayList<>();
    private final Map<String, ConcurrentLinkedQueue<String>> output = new ConcurrentHashMap<>();
    private volatile boolean echo = true;

    /** Boards with folders under {@code dir}, using keys made by {@link #makeKeys} in {@code keys}. */
    DaemonBoards(Path dir, Path keys) {
        this.dir = dir;
        this.keys = keys;
    }

    /** Real keys made as keygen makes them; each board trusts every other board's certificate. */
    static void makeKeys(Path keys, String... boards) throws Exception {
        for (String b : boards) {
            io.ringstore.replication.tls.BoardKeys.generate(b, keys.resolve(b), 30, "-1d", null);
        }
        for (String me : boards) {
            Path peers = Files.createDirectories(keys.resolve(me).resolve("peers"));
            for (String other : boards) {
                if (!other.equals(me)) {
                    Files.copy(keys.resolve(other).resolve(other + ".crt"), peers.resolve(other + ".crt"));
                }
            }
        }
    }

    /** Whether the children's replication and error lines are echoed to the test's output. */
    DaemonBoards echo(boolean on) {
        echo = on;
        return this;
    }

    /** Each board its own data folder and socket folder (the JSON socket goes beside the socket). */
    Board board(String name) throws IOException {
        Path sockets = Files.createDirectories(dir.resolve(name + "-run"));
        return new Board(name, FreePorts.next(), dir.resolve(name), sockets.resolve("s.sock"));
    }

    /** Starts {@code me} with {@code other} as its one peer, reached directly. */
    Process start(Board me, Board other, String role, String ackMode, String... extra) throws IOException {
        return start(me, other.name(), other.replicationAddress(), role, ackMode, extra);
    }

    /**
     * Starts {@code me} with one peer named {@code peer} reached at {@code peerAddress} (a proxy
     * in front of it, say); a standby follows that peer.
     */
    Process start(Board me, String peer, InetSocketAddress peerAddress, String role, String ackMode, String... extra)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve",
                "--data", me.data().toString(), "--socket", me.socket().toString(), "--leds", "off",
                "--segment-size", "65536", "--role", role, "--ack-mode", ackMode,
                "--replication-listen", "127.0.0.1:" + me.port(),
                "--replication-peers", peer + "=127.0.0.1:" + peerAddress.getPort(),
                "--replication-key-store", keys.resolve(me.name()).resolve(me.name() + ".p12").toString(),
                "--replication-peer-certs", keys.resolve(me.name()).resolve("peers").toString()));
        if (role.equals("standby")) {
            cmd.addAll(List.of("--replication-primary", peer));
        }
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ConcurrentLinkedQueue<String> out = output.computeIfAbsent(me.name(), k -> new ConcurrentLinkedQueue<>());
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.add(line);
                    if (echo && (line.contains("replication") || line.contains("ERROR"))) {
                        System.out.println("[" + me.name() + "] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        synchronized (children) {
            children.add(p);
        }
        return p;
    }

    /** Every line a board's daemons printed so far (its journal), across restarts. */
    List<String> journal(Board b) {
        ConcurrentLinkedQueue<String> q = output.get(b.name());
        return q == null ? List.of() : List.copyOf(q);
    }

    /** Prints the last {@code lines} lines of every board's journal: what a failure's report needs. */
    void printJournalTails(int lines) {
        for (var e : output.entrySet()) {
            List<String> all = List.copyOf(e.getValue());
            System.out.println("---- last " + Math.min(lines, all.size()) + " of " + all.size() + " journal lines of board "
                    + e.getKey());
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> System.out.println("[" + e.getKey() + "] " + l));
        }
    }

    static RingStoreClient connect(Board b) throws InterruptedException {
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

    static void kill(Process p) throws InterruptedException {
        assertTrue(p.toHandle().destroyForcibly(), "SIGKILL refused");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    /** Sends SIGSTOP or SIGCONT (by pid: only to a child this class started). */
    static void signal(Process p, String signal) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, k.waitFor(), "kill -" + signal + " " + p.pid());
    }

    static void await(String what, BooleanSupplier c) throws InterruptedException {
        await(what, 60_000, c);
    }

    static void await(String what, long millis, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    static StatusResponse status(RingStoreClient c) {
        try {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Status through a fresh connection (a rejoining daemon drops its connections as it reopens), or null. */
    static StatusResponse freshStatus(Board b) {
        try (RingStoreClient c = RingStoreClient.connect(b.socket())) {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        List<Process> all;
        synchronized (children) {
            all = List.copyOf(children);
        }
        for (Process p : all) {
            p.toHandle().destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
