package io.ringstore.bench;

import io.ringstore.cli.Args;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.replication.tls.BoardKeys;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code ringstore bench --group-failover}: automatic failover in a voter group of daemon children
 * on this machine (two data boards and a witness, or three data boards; TLS over loopback, each
 * with its own data folder), under a steady load of clients appending to whichever board is
 * primary. Each run waits until the group is whole (one primary, every data board in sync), runs
 * a window, SIGKILLs the primary and times until a client's append is acknowledged by another
 * board; the old board is restarted at once (a board rebooting) and must re-sync. Reported: the
 * kill-to-first-acknowledgement times (p50, p99) and the appends per second before the kill, in
 * the window after the new primary's first acknowledgement, and in the window after the old
 * primary is back in sync. With {@code --sd-card-profile} the primary's daemon (whichever board
 * that is) is kept in a blkio group throttling its writes ({@link BlkioThrottle}).
 */
final class GroupFailoverBench {
    static final String USAGE = """
            usage: ringstore bench --group-failover [--boards 2|3] [--runs N] [--clients N] [--ack-mode MODE]
                                   [--failover-after-ms MS] [--window-s S] [--sd-card-profile card|IOPS:BPS] [--dir DIR] [--pi]
              daemon children in a voter group on this machine (TLS over loopback), clients appending to the primary:
              --boards 2   two data boards and a witness (default); 3: three data boards
              --runs N     SIGKILL the primary N times (default 5), each after the group is whole again
              --clients N  clients appending one event each at a time (default 4)
              --ack-mode   replica-memory (default) or replica-durable
              --failover-after-ms MS  the group's failover_after_ms (default: the daemon's default)
              --window-s S the throughput windows (default 5)
            """;
    private static final long WHOLE_TIMEOUT_MILLIS = 180_000;
    private static final long FAILOVER_TIMEOUT_MILLIS = 120_000;

    private final PrintStream out;
    private final PrintStream log;
    private final int dataBoards;
    private final int runs;
    private final int clients;
    private final String ackMode;
    private final long failoverAfter;
    private final long windowNanos;
    private final long[] sdCard;
    private final boolean pi;
    private final Path dirOption;

    private final Map<String, Integer> groupPorts = new LinkedHashMap<>();
    private final Map<String, Integer> replicationPorts = new LinkedHashMap<>();
    private final Map<String, DaemonChild> children = new LinkedHashMap<>();
    /** Acknowledgements: {nanoTime, index of the board in groupPorts}. */
    private final ConcurrentLinkedQueue<long[]> acks = new ConcurrentLinkedQueue<>();
    private volatile String primary;
    private volatile boolean stopping;

    GroupFailoverBench(String[] args, PrintStream out, PrintStream log) throws Args.UsageException {
        Args a = Args.parse(args, Set.of("--boards", "--runs", "--clients", "--ack-mode", "--failover-after-ms", "--window-s",
                "--sd-card-profile", "--dir"), Set.of("--group-failover", "--pi"));
        this.dataBoards = (int) a.getLong("--boards", 2);
        if (dataBoards != 2 && dataBoards != 3) {
            throw new Args.UsageException("--boards takes 2 (two boards and a witness) or 3");
        }
        this.runs = (int) a.getLong("--runs", 5);
        this.clients = (int) a.getLong("--clients", 4);
        this.ackMode = a.get("--ack-mode", "replica-memory");
        this.failoverAfter = a.getLong("--failover-after-ms", 0);
        this.windowNanos = a.getLong("--window-s", 5) * 1_000_000_000L;
        try {
            this.sdCard = a.has("--sd-card-profile") ? BlkioThrottle.parse(a.get("--sd-card-profile", "card")) : null;
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        this.pi = a.has("--pi");
        this.dirOption = a.has("--dir") ? Path.of(a.get("--dir", null)) : null;
        this.out = out;
        this.log = log;
    }

    /** One failover: kill to first acknowledgement by another board, and appends/s around it. */
    record Run(String from, String to, double millis, double before, double afterFirstAck, double afterRejoined) {}

    List<Run> run() throws IOException, InterruptedException {
        Path root = dirOption == null ? BenchRunner.createTempFolder(log) : Files.createDirectories(dirOption);
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= dataBoards; i++) {
            names.add("b" + i);
        }
        if (dataBoards == 2) {
            names.add("w");
        }
        BlkioThrottle throttle = null;
        List<Thread> threads = new ArrayList<>();
        try {
            Path keys = makeKeys(root.resolve("keys"), names);
            for (String n : names) {
                groupPorts.put(n, freePort());
                if (!n.equals("w")) {
                    replicationPorts.put(n, freePort());
                }
            }
            if (sdCard != null) {
                throttle = BlkioThrottle.create(root, "ringstore-group-bench-" + ProcessHandle.current().pid(), sdCard[0], sdCard[1]);
                log.println("group-failover: " + throttle.describe() + " (the primary's daemon, whichever board that is)");
            }
            for (String n : names) {
                start(root, keys, n);
            }
            threads.add(Thread.ofPlatform().name("bench-group-watch").daemon().start(this::watch));
            for (int i = 0; i < clients; i++) {
                int c = i;
                threads.add(Thread.ofPlatform().name("bench-group-client-" + i).daemon().start(() -> client(c)));
            }
            List<Run> results = new ArrayList<>();
            long wholeAt = awaitWhole();
            if (throttle != null) {
                throttle.add(children.get(primary).pid());
            }
            for (int r = 0; r < runs; r++) {
                sleepUntil(wholeAt + windowNanos);
                String old = primary;
                DaemonChild victim = children.get(old);
                long killed = System.nanoTime();
                victim.kill();
                long[] first = awaitAck(killed, old);
                String to = name((int) first[1]);
                log.printf(Locale.ROOT, "group-failover run %d: SIGKILL %s -> first acknowledged append on %s after %.0f ms%n",
                        r + 1, old, to, (first[0] - killed) / 1e6);
                start(root, keys, old);
                if (throttle != null) {
                    moveIntoThrottle(throttle, to, old);
                }
                sleepUntil(first[0] + windowNanos);
                long rejoined = awaitWhole();
                sleepUntil(rejoined + windowNanos);
                results.add(new Run(old, to, (first[0] - killed) / 1e6, rate(killed - windowNanos, killed),
                        rate(first[0], first[0] + windowNanos), rate(rejoined, rejoined + windowNanos)));
                wholeAt = rejoined;
            }
            print(results, names);
            return results;
        } finally {
            stopping = true;
            for (Thread t : threads) {
                t.join(10_000);
            }
            for (DaemonChild d : children.values()) {
                if (d.alive()) {
                    d.kill();
                }
            }
            if (throttle != null) {
                throttle.close();
            }
            if (dirOption == null) {
                BenchRunner.deleteTree(root);
            }
        }
    }

    private String name(int index) {
        return new ArrayList<>(groupPorts.keySet()).get(index);
    }

    private static Path makeKeys(Path keys, List<String> names) throws IOException {
        try {
            for (String b : names) {
                BoardKeys.generate(b, keys.resolve(b), BoardKeys.DEFAULT_DAYS, "-1d", null);
            }
            for (String me : names) {
                Path peers = Files.createDirectories(keys.resolve(me).resolve("peers"));
                for (String other : names) {
                    if (!other.equals(me)) {
                        Files.copy(keys.resolve(other).resolve(other + ".crt"), peers.resolve(other + ".crt"));
                    }
                }
            }
        } catch (BoardKeys.KeygenException e) {
            throw new IOException("cannot make the boards' TLS keys in " + keys + ": " + e.getMessage(), e);
        }
        return keys;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A board's flags: as its ringstore.conf would say, the first data board configured primary. */
    private void start(Path root, Path keys, String me) throws IOException, InterruptedException {
        List<String> f = new ArrayList<>();
        StringBuilder voters = new StringBuilder();
        for (var e : groupPorts.entrySet()) {
            voters.append(voters.isEmpty() ? "" : ",").append(e.getKey()).append("=127.0.0.1:").append(e.getValue());
        }
        f.addAll(List.of("--group-listen", "127.0.0.1:" + groupPorts.get(me), "--group-voters", voters.toString(),
                "--replication-key-store", keys.resolve(me).resolve(me + ".p12").toString(),
                "--replication-peer-certs", keys.resolve(me).resolve("peers").toString()));
        if (failoverAfter > 0) {
            f.addAll(List.of("--failover-after-ms", Long.toString(failoverAfter)));
        }
        if (me.equals("w")) {
            f.addAll(List.of("--role", "witness"));
        } else {
            StringBuilder peers = new StringBuilder();
            for (var e : replicationPorts.entrySet()) {
                if (!e.getKey().equals(me)) {
                    peers.append(peers.isEmpty() ? "" : ",").append(e.getKey()).append("=127.0.0.1:").append(e.getValue());
                }
            }
            f.addAll(List.of("--ack-mode", ackMode, "--replication-listen", "127.0.0.1:" + replicationPorts.get(me),
                    "--replication-peers", peers.toString()));
            f.addAll(me.equals("b1") ? List.of("--role", "primary") : List.of("--role", "standby", "--replication-primary", "b1"));
        }
        children.put(me, DaemonChild.start(root.resolve(me), pi, List.of(), f));
    }

    private void moveIntoThrottle(BlkioThrottle throttle, String primaryNow, String old) throws IOException {
        throttle.add(children.get(primaryNow).pid());
        log.println("group-failover: " + primaryNow + " moved into the blkio group (" + old + " restarted outside it)");
    }

    private StatusResponse status(String board) {
        DaemonChild d = children.get(board);
        if (d == null || !d.alive()) {
            return null;
        }
        try (RingStoreClient c = RingStoreClient.connect(d.socket())) {
            return c.status().get(1, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    private void watch() {
        while (!stopping) {
            String best = null;
            long epoch = -1;
            for (String b : replicationPorts.keySet()) {
                StatusResponse st = status(b);
                if (st != null && st.getReplicationRole().equals("primary") && st.getEpoch() > epoch) {
                    best = b;
                    epoch = st.getEpoch();
                }
            }
            if (best != null) {
                primary = best;
            }
            sleep(20);
        }
    }

    private void client(int index) {
        byte[] payload = new byte[256];
        RingStoreClient c = null;
        String on = null;
        byte[] id = null;
        long n = 0;
        while (!stopping) {
            String target = primary;
            if (target == null) {
                sleep(20);
                continue;
            }
            if (id == null) {
                id = java.nio.ByteBuffer.allocate(EventData.EVENT_ID_LENGTH).putLong(System.nanoTime()).putInt(index)
                        .putInt((int) n).array();
            }
            try {
                if (c == null || !target.equals(on)) {
                    if (c != null) {
                        c.close();
                    }
                    c = null;
                    c = RingStoreClient.connect(children.get(target).socket());
                    on = target;
                }
                c.append("bench-" + index, ExpectedVersion.ANY, List.of(new EventData(id, Workload.EVENT_TYPE, payload, null)))
                        .get(10, TimeUnit.SECONDS);
                acks.add(new long[] {System.nanoTime(), new ArrayList<>(groupPorts.keySet()).indexOf(target)});
                id = null;
                n++;
            } catch (Exception e) {
                // Unknown outcome (refused, timed out, connection lost): the same event id again.
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // broken
                    }
                }
                c = null;
                sleep(10);
            }
        }
        if (c != null) {
            c.close();
        }
    }

    /** Waits until one data board is primary, every data board is in its in-sync set and holds its end; returns when. */
    private long awaitWhole() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WHOLE_TIMEOUT_MILLIS * 1_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            String p = primary;
            StatusResponse ps = p == null ? null : status(p);
            if (ps != null && ps.getReplicationRole().equals("primary")
                    && ps.getInSyncList().containsAll(replicationPorts.keySet())) {
                boolean held = true;
                for (String b : replicationPorts.keySet()) {
                    StatusResponse s = b.equals(p) ? ps : status(b);
                    held &= s != null && s.getCommittedPosition() >= ps.getCommittedPosition() - 1_000_000;
                }
                if (held) {
                    return System.nanoTime();
                }
            }
            last = p + ": " + (ps == null ? "no answer" : ps.getReplicationRole() + " in_sync=" + ps.getInSyncList());
            Thread.sleep(50);
        }
        throw new IOException("the group was not whole within " + WHOLE_TIMEOUT_MILLIS + " ms: " + last);
    }

    private long[] awaitAck(long after, String notBy) throws IOException, InterruptedException {
        int old = new ArrayList<>(groupPorts.keySet()).indexOf(notBy);
        long deadline = after + FAILOVER_TIMEOUT_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            for (long[] a : acks) {
                if (a[0] > after && a[1] != old) {
                    return a;
                }
            }
            Thread.sleep(2);
        }
        throw new IOException("no board acknowledged an append within " + FAILOVER_TIMEOUT_MILLIS + " ms of killing " + notBy);
    }

    private double rate(long from, long to) {
        long n = acks.stream().filter(a -> a[0] >= from && a[0] < to).count();
        return n / ((to - from) / 1e9);
    }

    private void print(List<Run> results, List<String> names) {
        out.printf(Locale.ROOT, "ringstore bench --group-failover: %s, %s, %d clients, failover_after_ms=%s%s%n",
                dataBoards == 2 ? "two data boards and a witness" : "three data boards", ackMode, clients,
                failoverAfter > 0 ? Long.toString(failoverAfter) : "default", sdCard == null ? "" : ", primary's disk throttled");
        long[] ms = results.stream().mapToLong(r -> Math.round(r.millis())).sorted().toArray();
        out.printf(Locale.ROOT, "SIGKILL of the primary -> first acknowledged append on the new primary, ms: %s (p50 %d, p99 %d)%n",
                results.stream().map(r -> String.format(Locale.ROOT, "%.0f", r.millis())).toList(),
                ms.length == 0 ? 0 : Percentiles.of(ms, 0.50), ms.length == 0 ? 0 : Percentiles.of(ms, 0.99));
        double w = windowNanos / 1e9;
        out.printf(Locale.ROOT, "appends/s: %.0f s before the kill | %.0f s from the new primary's first ack | %.0f s after the "
                + "old primary is back in sync%n", w, w, w);
        for (Run r : results) {
            out.printf(Locale.ROOT, "  %s -> %s: %.0f | %.0f | %.0f%n", r.from(), r.to(), r.before(), r.afterFirstAck(),
                    r.afterRejoined());
        }
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left = nanos - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
