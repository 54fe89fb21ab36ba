package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.replication.ReplicationSockets;
import io.ringstore.testsupport.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Three (or more) voters in this JVM over loopback, each startable and closable on its own,
 * keeping its state folder across restarts. Who connects to whom through which address is up to
 * the caller ({@code addressFor}), so a test can put a fault proxy on every path.
 */
final class TestVoters implements AutoCloseable {
    /** Shorter than the daemon's defaults (3000 / 500) to keep the tests short; -D to measure with others. */
    static final long ELECTION_MILLIS = Long.getLong("ringstore.consensus.electionMillis", 2_000);
    static final long HEARTBEAT_MILLIS = Long.getLong("ringstore.consensus.heartbeatMillis", 1_000);
    static final long REQUEST_MILLIS = 2_000;

    final List<String> names;
    final Map<String, InetSocketAddress> listen = new LinkedHashMap<>();
    private final Path root;
    private final Function<String, ReplicationSockets> sockets;
    /** (from, to) -> the address {@code from} uses to reach {@code to}. */
    private final AddressFor addressFor;
    private final Map<String, VoterGroup> running = new LinkedHashMap<>();

    interface AddressFor {
        InetSocketAddress of(String from, String to, InetSocketAddress realListen);
    }

    TestVoters(Path root, List<String> names, Function<String, ReplicationSockets> sockets, AddressFor addressFor)
            throws IOException {
        this.root = root;
        this.names = List.copyOf(names);
        this.sockets = sockets;
        this.addressFor = addressFor;
        for (String n : names) {
            listen.put(n, new InetSocketAddress(InetAddress.getLoopbackAddress(), FreePorts.next()));
        }
    }

    Path stateDir(String name) {
        return root.resolve(name);
    }

    GroupOptions options(String name) {
        Map<String, InetSocketAddress> voters = new LinkedHashMap<>();
        for (String n : names) {
            voters.put(n, n.equals(name) ? listen.get(n) : addressFor.of(name, n, listen.get(n)));
        }
        return new GroupOptions(name, voters, listen.get(name), stateDir(name), sockets.apply(name), ELECTION_MILLIS,
                HEARTBEAT_MILLIS, REQUEST_MILLIS);
    }

    VoterGroup start(String name) throws IOException {
        VoterGroup g = VoterGroup.start(options(name));
        running.put(name, g);
        return g;
    }

    void startAll() throws IOException {
        for (String n : names) {
            start(n);
        }
    }

    VoterGroup get(String name) {
        return running.get(name);
    }

    List<VoterGroup> running() {
        return new ArrayList<>(running.values());
    }

    void close(String name) {
        VoterGroup g = running.remove(name);
        if (g != null) {
            g.close();
        }
    }

    /** Waits until one of {@code among} leads and the others of {@code among} name it; returns it. */
    VoterGroup awaitLeader(long timeoutMillis, List<String> among) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        while (System.nanoTime() < end) {
            for (String n : among) {
                VoterGroup g = running.get(n);
                if (g != null && g.isLeader()
                        && among.stream().allMatch(o -> running.get(o) != null && running.get(o).leader().equals(n))) {
                    return g;
                }
            }
            Thread.sleep(20);
        }
        fail("no leader agreed on among " + among + " within " + timeoutMillis + " ms; leaders seen: "
                + among.stream().map(n -> n + "->" + (running.get(n) == null ? "down" : running.get(n).leader())).toList());
        return null;
    }

    VoterGroup awaitLeader(long timeoutMillis) throws InterruptedException {
        return awaitLeader(timeoutMillis, new ArrayList<>(running.keySet()));
    }

    static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail(what + ": not within " + timeoutMillis + " ms");
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        for (String n : new ArrayList<>(running.keySet())) {
            close(n);
        }
    }
}
