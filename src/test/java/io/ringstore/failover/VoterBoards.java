package io.ringstore.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.replication.FaultProxy;
import io.ringstore.testsupport.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * N real daemon JVMs ({@code ringstore serve}) forming one failover group: data boards and at most
 * a witness, every one a voter. Each board reaches every other board's replication port and group
 * port through a {@link FaultProxy} of its own (one per ordered pair and channel), so any link can
 * be broken alone, one way or both: "b1 cannot send to w" is the proxy b1 uses to reach w blocking
 * towards its target and the proxy w uses to reach b1 blocking its answers.
 *
 * <p>Every board is started with the same flags each time (a board rebooting with its config
 * file); SIGKILL, SIGSTOP and SIGCONT go by pid to children this class started, and {@link #close()}
 * kills them all.
 */
final class VoterBoards implements AutoCloseable {
    /** The two kinds of link between boards. */
    enum Channel { REPLICATION, GROUP }

    /** A voter: a data board (with a replication port) or the witness (replicationPort 0). */
    record Voter(String name, boolean witness, int replicationPort, int groupPort, Path data, Path socket) {
        boolean holdsData() {
            return !witness;
        }
    }

    private record Link(String from, String to, Channel channel) {}

    private final Path dir;
    private final Path keys;
    private final long seed;
    private final Map<String, Voter> voters = new LinkedHashMap<>();
    private final Map<Link, FaultProxy> proxies = new ConcurrentHashMap<>();
    /** The proxies given a fault since the last heal (only they are healed: each heal is a journal line). */
    private final java.util.Set<FaultProxy> faulted = ConcurrentHashMap.newKeySet();
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentLinkedQueue<String>> output = new ConcurrentHashMap<>();
    private final List<Process> children = new ArrayList<>();
    private final Map<String, Integer> starts = new ConcurrentHashMap<>();
    private volatile boolean echo;
    /** Journal lines are stamped with seconds since this harness was made (one clock for every board). */
    private final long born = System.nanoTime();
    private volatile Consumer<Process> onStart = p -> { };
    private final String ackMode;
    private final List<String> extraFlags;

    /**
     * Boards named {@code dataBoards} (the first is configured primary) plus a witness named
     * {@code witness} when not null, folders under {@code dir}, TLS keys under {@code keys} (made by
     * {@link #makeKeys}), proxies seeded from {@code seed}, every data board in {@code ackMode}.
     */
    VoterBoards(Path dir, Path keys, long seed, List<String> dataBoards, String witness, String ackMode,
                List<String> extraFlags) throws IOException {
        this.dir = dir;
        this.keys = keys;
        this.seed = seed;
        this.ackMode = ackMode;
        this.extraFlags = List.copyOf(extraFlags);
        for (String b : dataBoards) {
            voters.put(b, voter(b, false));
        }
        if (witness != null) {
            voters.put(witness, voter(witness, true));
        }
        long s = seed;
        for (Voter from : voters.values()) {
            for (Voter to : voters.values()) {
                if (from == to) {
                    continue;
                }
                proxies.put(new Link(from.name(), to.name(), Channel.GROUP),
                        FaultProxy.start(new InetSocketAddress("127.0.0.1", to.groupPort()), ++s));
                if (from.holdsData() && to.holdsData()) {
                    proxies.put(new Link(from.name(), to.name(), Channel.REPLICATION),
                            FaultProxy.start(new InetSocketAddress("127.0.0.1", to.replicationPort()), ++s));
                }
            }
        }
    }

    /** Real keys made as keygen makes them; each board trusts every other board's certificate. */
    static void makeKeys(Path keys, List<String> boards) throws Exception {
        // keytool is a JVM start per key (seconds each on a busy 2-core machine): in parallel.
        List<Thread> made = new ArrayList<>();
        List<Exception> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        for (String b : boards) {
            made.add(Thread.ofPlatform().start(() -> {
                try {
                    io.ringstore.replication.tls.BoardKeys.generate(b, keys.resolve(b), 30, "-1d", null);
                } catch (Exception e) {
                    failed.add(e);
                }
            }));
        }
        for (Thread t : made) {
            t.join();
        }
        if (!failed.isEmpty()) {
            throw failed.getFirst();
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

    /**
     * Keys for {@code boards} in {@code keys}, made once and reused while they last (they are test
     * keys valid 30 days, in target/): a fresh set costs a keytool JVM per board.
     */
    static Path cachedKeys(Path keys, List<String> boards) throws Exception {
        Path done = keys.resolve("complete");
        if (Files.exists(done)) {
            return keys;
        }
        if (Files.exists(keys)) {
            try (var walk = Files.walk(keys)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        makeKeys(keys, boards);
        Files.writeString(done, String.join(",", boards));
        return keys;
    }

    private Voter voter(String name, boolean witness) throws IOException {
        Path sockets = Files.createDirectories(dir.resolve(name + "-run"));
        return new Voter(name, witness, witness ? 0 : FreePorts.next(), FreePorts.next(), dir.resolve(name), sockets.resolve("s.sock"));
    }

    VoterBoards echo(boolean on) {
        echo = on;
        return this;
    }

    /** Called with every daemon process just started (the SD-card run moves the primary into its blkio group). */
    VoterBoards onStart(Consumer<Process> hook) {
        onStart = hook;
        return this;
    }

    Voter voter(String name) {
        return voters.get(name);
    }

    List<Voter> all() {
        return List.copyOf(voters.values());
    }

    List<Voter> dataBoards() {
        return voters.values().stream().filter(Voter::holdsData).toList();
    }

    Voter witness() {
        return voters.values().stream().filter(Voter::witness).findFirst().orElse(null);
    }

    private InetSocketAddress through(String from, String to, Channel c) {
        return proxies.get(new Link(from, to, c)).address();
    }

    /**
     * The flags a board is started with (as its ringstore.conf would say): its own ports, every
     * other voter's group port and every other data board's replication port through the proxy it
     * uses to reach that board. The first data board is configured primary, the others follow it
     * until the group says otherwise.
     */
    List<String> flags(Voter me) {
        List<String> f = new ArrayList<>(List.of("--data", me.data().toString(), "--socket", me.socket().toString(),
                "--leds", "off"));
        StringBuilder group = new StringBuilder();
        for (Voter v : voters.values()) {
            int port = v == me ? v.groupPort() : through(me.name(), v.name(), Channel.GROUP).getPort();
            group.append(group.isEmpty() ? "" : ",").append(v.name()).append("=127.0.0.1:").append(port);
        }
        f.addAll(List.of("--group-listen", "127.0.0.1:" + me.groupPort(), "--group-voters", group.toString()));
        Path myKeys = keys.resolve(me.name());
        f.addAll(List.of("--replication-key-store", myKeys.resolve(me.name() + ".p12").toString(),
                "--replication-peer-certs", myKeys.resolve("peers").toString()));
        if (me.witness()) {
            f.addAll(List.of("--role", "witness"));
        } else {
            String first = dataBoards().getFirst().name();
            StringBuilder peers = new StringBuilder();
            for (Voter v : dataBoards()) {
                if (v != me) {
                    peers.append(peers.isEmpty() ? "" : ",").append(v.name()).append("=127.0.0.1:")
                            .append(through(me.name(), v.name(), Channel.REPLICATION).getPort());
                }
            }
            f.addAll(List.of("--segment-size", "65536", "--ack-mode", ackMode,
                    "--replication-listen", "127.0.0.1:" + me.replicationPort(), "--replication-peers", peers.toString()));
            if (me.name().equals(first)) {
                f.addAll(List.of("--role", "primary"));
            } else {
                f.addAll(List.of("--role", "standby", "--replication-primary", first));
            }
        }
        f.addAll(extraFlags);
        return f;
    }

    /** Starts (or restarts) {@code v} with its flags. */
    Process start(Voter v) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve"));
        cmd.addAll(flags(v));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        int n = starts.merge(v.name(), 1, Integer::sum);
        ConcurrentLinkedQueue<String> out = output.computeIfAbsent(v.name(), k -> new ConcurrentLinkedQueue<>());
        out.add(stamp() + "---- start " + n + " pid " + p.pid() + ": " + String.join(" ", cmd.subList(7, cmd.size())));
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    line = stamp() + line;
                    out.add(line);
                    if (echo) {
                        System.out.println("[" + v.name() + "] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        synchronized (children) {
            children.add(p);
        }
        running.put(v.name(), p);
        onStart.accept(p);
        return p;
    }

    /** Seconds since this harness was made, for the journal lines. */
    private String stamp() {
        return String.format(java.util.Locale.ROOT, "%9.3f ", (System.nanoTime() - born) / 1e9);
    }

    Process process(Voter v) {
        return running.get(v.name());
    }

    boolean alive(Voter v) {
        Process p = running.get(v.name());
        return p != null && p.isAlive();
    }

    /** SIGKILL, and waits for the exit. */
    void kill(Voter v) throws InterruptedException {
        Process p = running.get(v.name());
        assertTrue(p.toHandle().destroyForcibly(), "SIGKILL refused");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "killed " + v.name());
        assertEquals(137, p.exitValue(), v.name() + " killed by SIGKILL");
        output.get(v.name()).add(stamp() + "---- SIGKILL");
    }

    /** Sends SIGSTOP or SIGCONT to {@code v}'s daemon (by pid: only a child this class started). */
    void signal(Voter v, String signal) throws IOException, InterruptedException {
        Process p = running.get(v.name());
        Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, k.waitFor(), "kill -" + signal + " " + p.pid());
        output.get(v.name()).add(stamp() + "---- SIG" + signal);
    }

    // ------------------------------------------------------------------ the network

    /** Black-holes what {@code from} sends to {@code to} on {@code channels} (both kinds when none given). */
    void block(Voter from, Voter to, Channel... channels) {
        for (Channel c : channels.length == 0 ? Channel.values() : channels) {
            FaultProxy out = proxies.get(new Link(from.name(), to.name(), c));
            FaultProxy back = proxies.get(new Link(to.name(), from.name(), c));
            if (out != null) {
                faulted.add(out);
                out.partition(FaultProxy.Direction.TO_TARGET);
            }
            if (back != null) {
                faulted.add(back);
                back.partition(FaultProxy.Direction.FROM_TARGET);
            }
        }
    }

    /** Both ways between {@code a} and {@code b}. */
    void partition(Voter a, Voter b, Channel... channels) {
        block(a, b, channels);
        block(b, a, channels);
    }

    /** {@code v} cut off from every other voter, both ways, both channels. */
    void isolate(Voter v) {
        for (Voter o : voters.values()) {
            if (o != v) {
                partition(v, o);
            }
        }
    }

    /**
     * Resets every connection towards {@code v} and refuses new ones until {@link #heal()}: a board
     * that died takes with it what a partition held back on its way to or from it (a healed proxy
     * would deliver bytes its sender no longer has; no network does that).
     */
    void cutTowards(Voter v) {
        for (var e : proxies.entrySet()) {
            if (e.getKey().to().equals(v.name()) || e.getKey().from().equals(v.name())) {
                faulted.add(e.getValue());
                e.getValue().cut(FaultProxy.WhileCut.REFUSE);
            }
        }
    }

    /** Every partition and cut ends; held bytes go through. */
    void heal() {
        for (FaultProxy p : List.copyOf(faulted)) {
            faulted.remove(p);
            p.heal();
        }
    }

    // ------------------------------------------------------------------ asking the boards

    /** Status through a fresh connection, bounded (a paused daemon accepts and never answers), or null. */
    static StatusResponse status(Voter v, long timeoutMillis) {
        try (RingStoreClient c = RingStoreClient.connect(v.socket())) {
            return c.status().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    static RingStoreClient connect(Voter v) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                return RingStoreClient.connect(v.socket());
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("daemon " + v.name() + " did not start serving", e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** Every line a board's daemons printed so far, across restarts, with the harness's markers. */
    List<String> journal(Voter v) {
        ConcurrentLinkedQueue<String> q = output.get(v.name());
        return q == null ? List.of() : List.copyOf(q);
    }

    /** Writes every board's journal to {@code folder}/NAME.log (kept for a failed run's report); returns the folder. */
    Path saveJournals(Path folder) throws IOException {
        Files.createDirectories(folder);
        for (Voter v : voters.values()) {
            Files.write(folder.resolve(v.name() + ".log"), journal(v));
        }
        return folder;
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
        for (FaultProxy p : proxies.values()) {
            p.close();
        }
    }
}
