package io.ringstore.failover;

import io.ringstore.consensus.GroupOptions;
import io.ringstore.consensus.GroupState;
import io.ringstore.consensus.VoterGroup;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.FaultProxy;
import io.ringstore.replication.PlainSockets;
import io.ringstore.replication.ReplicationOptions;
import io.ringstore.replication.Role;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.testsupport.FreePorts;
import io.ringstore.writer.AckOptions;
import io.ringstore.writer.EventData;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Data boards (a RingStore with replication, a real VoterGroup over loopback and a Failover each)
 * and witnesses (a VoterGroup and a Controller, no store), in this JVM. Board 0 starts primary.
 * Every voter's and every replication peer's address can go through a {@link FaultProxy} so that
 * a test can cut a board off from the voters or from its primary.
 */
final class FailoverBoards implements AutoCloseable {
    /** Short times so that a failover fits a test: W = 600 * 1.21 + 100 = 826 ms. */
    static final FailoverOptions OPTIONS = new FailoverOptions(600, 10, 100, 1_500, 400, 800);
    static final long ACK_TIMEOUT_MILLIS = 2_000;

    final Path dir;
    final int count;
    final boolean[] witness;
    final String[] names;
    final int[] replicationPorts;
    final int[] voterPorts;
    /** proxies[i][j]: how voter i reaches voter j (null: directly). */
    final FaultProxy[][] voterProxies;
    /** replicationProxies[i][j]: how board i reaches board j's replication port (null: directly). */
    final FaultProxy[][] replicationProxies;
    final RingStore[] stores;
    final VoterGroup[] voters;
    final Failover[] failovers;
    final Controller[] controllers;

    /** {@code witnesses}: which of the {@code count} voters hold no store. */
    FailoverBoards(Path dir, int count, boolean[] witnesses, boolean proxyVoters, boolean proxyReplication)
            throws IOException {
        this.dir = dir;
        this.count = count;
        this.witness = witnesses;
        this.names = new String[count];
        this.replicationPorts = new int[count];
        this.voterPorts = new int[count];
        this.voterProxies = new FaultProxy[count][count];
        this.replicationProxies = new FaultProxy[count][count];
        this.stores = new RingStore[count];
        this.voters = new VoterGroup[count];
        this.failovers = new Failover[count];
        this.controllers = new Controller[count];
        for (int i = 0; i < count; i++) {
            names[i] = witnesses[i] ? "w" + (i + 1) : "b" + (i + 1);
            replicationPorts[i] = FreePorts.next();
            voterPorts[i] = FreePorts.next();
        }
        long seed = 16;
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < count; j++) {
                if (i == j) {
                    continue;
                }
                if (proxyVoters) {
                    voterProxies[i][j] = FaultProxy.start(loop(voterPorts[j]), seed++);
                }
                if (proxyReplication && !witnesses[i] && !witnesses[j]) {
                    replicationProxies[i][j] = FaultProxy.start(loop(replicationPorts[j]), seed++);
                }
            }
        }
    }

    static InetSocketAddress loop(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** Starts voter {@code i} (its state folder survives a restart). */
    VoterGroup startVoter(int i) throws IOException {
        Map<String, InetSocketAddress> v = new LinkedHashMap<>();
        for (int j = 0; j < count; j++) {
            v.put(names[j], i == j ? loop(voterPorts[j])
                    : voterProxies[i][j] != null ? voterProxies[i][j].address() : loop(voterPorts[j]));
        }
        voters[i] = VoterGroup.start(new GroupOptions(names[i], v, loop(voterPorts[i]), dir.resolve(names[i] + "-group"),
                new PlainSockets(), 2_000, 500, 2_000));
        if (witness[i]) {
            controllers[i] = new Controller(Group.of(voters[i]), OPTIONS, names[i]);
        }
        return voters[i];
    }

    /** Opens board {@code i}'s store in {@code role} (its role file may say otherwise) and starts its failover. */
    RingStore startBoard(int i, Role role) throws IOException {
        List<ReplicationOptions.Peer> peers = new ArrayList<>();
        for (int j = 0; j < count; j++) {
            if (j != i && !witness[j]) {
                InetSocketAddress a = replicationProxies[i][j] != null ? replicationProxies[i][j].address()
                        : loop(replicationPorts[j]);
                peers.add(new ReplicationOptions.Peer(names[j], a));
            }
        }
        ReplicationOptions r = new ReplicationOptions(role, names[i], loop(replicationPorts[i]),
                role == Role.STANDBY ? peers.getFirst() : null, peers, 60_000, AckMode.REPLICA_MEMORY, new PlainSockets());
        StoreConfig c = StoreConfig.defaults(dir.resolve(names[i])).withSegmentSize(64 << 10)
                .withPsiFile(dir.resolve("no-psi"))
                .withAck(new AckOptions(AckMode.REPLICA_MEMORY, ACK_TIMEOUT_MILLIS, AckOptions.DEFAULT_MAX_WAITING_BATCHES));
        stores[i] = RingStore.open(c, r);
        failovers[i] = new Failover(Group.of(voters[i]), stores[i], OPTIONS);
        failovers[i].start();
        return stores[i];
    }

    /** Closes board {@code i}'s failover and store (its voter stays). */
    void stopBoard(int i) throws IOException {
        if (failovers[i] != null) {
            failovers[i].close();
            failovers[i] = null;
        }
        if (stores[i] != null) {
            stores[i].close();
            stores[i] = null;
        }
    }

    void stopVoter(int i) {
        if (controllers[i] != null) {
            controllers[i].close();
            controllers[i] = null;
        }
        if (voters[i] != null) {
            voters[i].close();
            voters[i] = null;
        }
    }

    /** The newest state any running voter has applied. */
    GroupState newest() {
        GroupState best = GroupState.INITIAL;
        for (VoterGroup v : voters) {
            if (v != null && v.committed().index() > best.index()) {
                best = v.committed();
            }
        }
        return best;
    }

    static void await(String what, long timeoutMillis, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static EventData event(int n) {
        byte[] id = new byte[EventData.EVENT_ID_LENGTH];
        id[0] = (byte) (n >> 8);
        id[1] = (byte) n;
        id[2] = 16;
        return new EventData(id, "reading", ("reading " + n).getBytes(StandardCharsets.UTF_8), null);
    }

    /** The event ids of every record in a board's log, in log order. */
    static List<String> eventIds(RingStore s) {
        List<String> out = new ArrayList<>();
        long at = 0;
        while (true) {
            MainLog.ReadBatch b = s.readLog(at, 256);
            if (b.records().isEmpty()) {
                return out;
            }
            for (LogRecord r : b.records()) {
                out.add(HexFormat.of().formatHex(r.getEventId().toByteArray()));
            }
            at = b.next();
        }
    }

    static String id(int n) {
        return HexFormat.of().formatHex(event(n).eventId());
    }

    @Override
    public void close() {
        for (int i = 0; i < count; i++) {
            try {
                stopBoard(i);
            } catch (IOException | RuntimeException e) {
                // best effort
            }
        }
        for (int i = 0; i < count; i++) {
            try {
                stopVoter(i);
            } catch (RuntimeException e) {
                // best effort
            }
        }
        for (FaultProxy[] row : voterProxies) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.close();
                }
            }
        }
        for (FaultProxy[] row : replicationProxies) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }
}
