package io.ringstore.daemon;

import io.ringstore.config.Settings;
import io.ringstore.failover.FailoverOptions;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.ReplicationConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The voter group (ringstore.conf {@code group_*}, {@code failover_after_ms},
 * {@code primary_lease_ms}, {@code clock_drift_bound}, {@code insync_drop_after_ms}, and
 * {@code role = witness}): three (or five) voters decide who leads, the epoch and the in-sync
 * set; the events never pass through it. Checked once, here: every problem is a
 * {@link Settings.BadSetting} naming the key.
 *
 * <p>The lease rule, with no wall clock anywhere (see {@link io.ringstore.failover.Lease}): a
 * primary acknowledges only until {@code primary_lease_ms} after it sent a beat the group
 * answered naming it primary (its own monotonic clock); a board the group names primary waits
 * W = lease * (1 + drift)^2 + 250 ms on its own clock before it acknowledges anything, so the
 * old primary has stopped by then whatever {@code failover_after_ms} is, as long as the clocks'
 * rates differ from real time by at most {@code clock_drift_bound} (0.10: ten percent, far more
 * than a crystal drifts).
 *
 * @param witness              this board holds no events and only votes ({@code role = witness})
 * @param board                this board's name in the group (its certificate's name), or null before the keys were read
 * @param voters               every voter by name, this board included, with its group port ({@code group_voters})
 * @param listen               where this board takes the group's connections ({@code group_listen})
 * @param electionTimeoutMillis how long a follower waits for its leader before it asks for votes
 * @param heartbeatMillis      how often the leader tells the followers it is there (a fifth of the election timeout)
 * @param failoverAfterMillis  how long the primary must be unreachable before the group names another
 * @param primaryLeaseMillis   how long a primary acknowledges without hearing a majority of the group
 * @param clockDriftBound      the largest rate difference assumed between a board's clock and real time (0.10 = 10 %)
 * @param inSyncDropAfterMillis how long a standby may fail to hold appends before the primary asks the
 *                             group to drop it from the in-sync set
 * @param inSyncRejoinAfterMillis how long a dropped standby must stay caught up before it rejoins the set
 * @param keyStore             this board's key (the replication key, {@code replication_key_store})
 * @param peerCerts            the folder of the other boards' certificates ({@code replication_peer_certs})
 */
public record GroupConfig(boolean witness, String board, Map<String, InetSocketAddress> voters, InetSocketAddress listen,
                          long electionTimeoutMillis, long heartbeatMillis, long failoverAfterMillis,
                          long primaryLeaseMillis, double clockDriftBound, long inSyncDropAfterMillis,
                          long inSyncRejoinAfterMillis, Path keyStore, Path peerCerts) {
    /** The port of a voter whose address names none: the replication port's neighbour. */
    public static final int DEFAULT_PORT = 7412;
    public static final long DEFAULT_ELECTION_TIMEOUT_MILLIS = 2_000;
    public static final long DEFAULT_FAILOVER_AFTER_MILLIS = 6_000;
    public static final double DEFAULT_CLOCK_DRIFT_BOUND = 0.10;
    public static final long DEFAULT_INSYNC_DROP_AFTER_MILLIS = 3_000;
    public static final long DEFAULT_INSYNC_REJOIN_AFTER_MILLIS = 10_000;
    public static final long DEFAULT_PRIMARY_LEASE_MILLIS = 3_000;

    /** Every key that belongs to the group; set without {@code group_voters}, each is an error. */
    static final List<String> KEYS = List.of("group_voters", "group_listen", "group_election_timeout_ms",
            "failover_after_ms", "primary_lease_ms", "clock_drift_bound", "insync_drop_after_ms", "insync_rejoin_after_ms");

    public GroupConfig {
        voters = Collections.unmodifiableMap(new LinkedHashMap<>(voters));
    }

    /** The voters other than this board: the peers whose certificates its group sockets pin. */
    public Map<String, InetSocketAddress> otherVoters() {
        Map<String, InetSocketAddress> m = new LinkedHashMap<>(voters);
        m.remove(board);
        return m;
    }

    /** A majority of the voters. */
    public int majority() {
        return voters.size() / 2 + 1;
    }

    /** What automatic failover runs with (the lease margin is FailoverOptions' own 250 ms). */
    public FailoverOptions failoverOptions() {
        return new FailoverOptions(primaryLeaseMillis, (int) Math.round(clockDriftBound * 100),
                FailoverOptions.DEFAULTS.marginMillis(), failoverAfterMillis, inSyncDropAfterMillis, inSyncRejoinAfterMillis);
    }

    GroupConfig withKeys(Path store, Path certs) {
        return new GroupConfig(witness, board, voters, listen, electionTimeoutMillis, heartbeatMillis, failoverAfterMillis,
                primaryLeaseMillis, clockDriftBound, inSyncDropAfterMillis, inSyncRejoinAfterMillis, store, certs);
    }

    GroupConfig withBoard(String name) {
        return new GroupConfig(witness, name, voters, listen, electionTimeoutMillis, heartbeatMillis, failoverAfterMillis,
                primaryLeaseMillis, clockDriftBound, inSyncDropAfterMillis, inSyncRejoinAfterMillis, keyStore, peerCerts);
    }

    /**
     * Reads the group keys; null when this board is in no group ({@code group_voters} unset and
     * {@code role} not witness). Checks what can be checked without the keys; the board's own
     * name is checked against the voters once its key is read ({@link #checkBoard}).
     *
     * @param witness whether {@code role = witness}
     */
    static GroupConfig parse(Settings s, boolean witness) throws Settings.BadSetting {
        boolean set = !s.string("group_voters", "").isBlank();
        if (!set) {
            if (witness) {
                throw s.bad("role", "needs group_voters: a witness only votes in a group (e.g. group_voters = "
                        + "a=192.168.1.10:7412, b=192.168.1.11:7412, w=192.168.1.12:7412)");
            }
            for (String k : KEYS) {
                if (!s.string(k, "").isBlank()) {
                    throw s.bad(k, "is set but group_voters is not: the group settings go with group_voters");
                }
            }
            return null;
        }
        Map<String, InetSocketAddress> voters = parseVoters(s);
        if (voters.size() != 3 && voters.size() != 5) {
            throw s.bad("group_voters", "names " + voters.size() + " voter" + (voters.size() == 1 ? "" : "s")
                    + voters.keySet() + ": a group needs 3 (two boards and a witness, or three boards) or 5"
                    + (voters.size() == 2 ? "; two voters cannot fail over safely (each alone is not a majority, "
                    + "so losing either stops the group), add a witness" : "")
                    + (voters.size() == 4 ? "; four voters tolerate no more failures than three" : ""));
        }
        if (s.string("group_listen", "").isBlank()) {
            throw new Settings.BadSetting("group_listen must be set with group_voters: the other voters connect to this board's group "
                    + "port (e.g. group_listen = :" + DEFAULT_PORT + ")");
        }
        InetSocketAddress listen;
        try {
            listen = ReplicationConfig.parseAddress(withPort(s.string("group_listen", "").strip()));
        } catch (IllegalArgumentException e) {
            throw s.bad("group_listen", e.getMessage());
        }
        long election = s.number("group_election_timeout_ms", DEFAULT_ELECTION_TIMEOUT_MILLIS, 200, 60_000);
        long failover = s.number("failover_after_ms", DEFAULT_FAILOVER_AFTER_MILLIS, 500, 3_600_000);
        if (failover <= election) {
            throw s.bad("failover_after_ms", "must be longer than group_election_timeout_ms (" + election
                    + "): the group must be able to elect its own leader before it names a new primary");
        }
        double drift = drift(s);
        long lease = s.number("primary_lease_ms", DEFAULT_PRIMARY_LEASE_MILLIS, 30, 3_600_000);
        long drop = s.number("insync_drop_after_ms", DEFAULT_INSYNC_DROP_AFTER_MILLIS, 100, 3_600_000);
        long rejoin = s.number("insync_rejoin_after_ms", DEFAULT_INSYNC_REJOIN_AFTER_MILLIS, 0, 3_600_000);
        GroupConfig g = new GroupConfig(witness, null, voters, listen, election, Math.max(50, election / 5), failover, lease,
                drift, drop, rejoin, null, null);
        try {
            g.failoverOptions();
        } catch (IllegalArgumentException e) {
            // FailoverOptions names the keys: failover_after_ms against the beat interval (lease/3).
            throw new Settings.BadSetting("bad failover timing: " + e.getMessage().replace("lease_ms", "primary_lease_ms"));
        }
        return g;
    }
    /**
     * What a data board in a group also needs: replication to the other data boards (they must
     * be voters), an ack mode the group's in-sync set means something for, and an in-sync drop
     * that comes before an append's wait runs out.
     */
    void checkDataBoard(Settings s, ReplicationConfig replication, AckMode mode, long replicaAckTimeoutMillis)
            throws Settings.BadSetting {
        if (!replication.enabled()) {
            throw s.bad("group_voters", "is set but replication is not: a data board in a group ships its log to the "
                    + "other data boards (set replication_peers, replication_key_store and replication_peer_certs), "
                    + "or set role = witness on a board that only votes");
        }
        if (replication.listen() == null) {
            throw new Settings.BadSetting("replication_listen must be set on a data board in a group: whichever board the group names "
                    + "primary ships from its replication port");
        }
        for (String peer : replication.peers().keySet()) {
            if (!voters.containsKey(peer)) {
                throw s.bad("replication_peers", "names " + peer + ", which is not in group_voters " + voters.keySet()
                        + ": every data board votes");
            }
        }
        if (replication.listen().getPort() == listen.getPort() && sameHost(replication.listen(), listen)) {
            throw s.bad("group_listen", "uses the replication port " + listen.getPort() + ": the group needs a port of its "
                    + "own (e.g. " + DEFAULT_PORT + ")");
        }
        if (mode != AckMode.LOCAL && inSyncDropAfterMillis >= replicaAckTimeoutMillis) {
            throw s.bad("insync_drop_after_ms", "must be below replica_ack_timeout_ms (" + replicaAckTimeoutMillis
                    + "): an append waiting for a standby would fail before the group could drop that standby "
                    + "from the in-sync set");
        }
    }

    /**
     * The board's own name (from its certificate) must be a voter, listening on the port the
     * others were told.
     */
    GroupConfig checkBoard(Settings s, String name) throws Settings.BadSetting {
        InetSocketAddress own = voters.get(name);
        if (own == null) {
            throw s.bad("group_voters", "does not name this board (" + name + ", the name in its key store): list every "
                    + "voter, this board included");
        }
        if (own.getPort() != listen.getPort()) {
            throw s.bad("group_listen", "listens on port " + listen.getPort() + " but group_voters tells the others "
                    + name + " is at " + own.getHostString() + ":" + own.getPort());
        }
        return withBoard(name);
    }

    private static boolean sameHost(InetSocketAddress a, InetSocketAddress b) {
        String x = a.getHostString();
        String y = b.getHostString();
        return x.equals(y) || x.equals("0.0.0.0") || y.equals("0.0.0.0") || x.equals("::") || y.equals("::");
    }

    /** {@code name=host:port, ...}; a voter without a port gets {@value #DEFAULT_PORT}. */
    static Map<String, InetSocketAddress> parseVoters(Settings s) throws Settings.BadSetting {
        Map<String, InetSocketAddress> voters = new LinkedHashMap<>();
        for (String entry : s.string("group_voters", "").split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw s.bad("group_voters", "has '" + e + "': expected name=host:port for every voter");
            }
            try {
                String name = ReplicationConfig.checkName(e.substring(0, eq).strip());
                InetSocketAddress a = ReplicationConfig.parseAddress(withPort(e.substring(eq + 1).strip()));
                if (a.getHostString().equals("0.0.0.0") || a.getHostString().equals("::")) {
                    throw new IllegalArgumentException("voter " + name + " needs the address the others reach it at, "
                            + "not every interface: " + e);
                }
                if (voters.put(name, a) != null) {
                    throw new IllegalArgumentException("voter " + name + " is named twice");
                }
            } catch (IllegalArgumentException ex) {
                throw s.bad("group_voters", ex.getMessage());
            }
        }
        List<String> seen = new java.util.ArrayList<>();
        for (Map.Entry<String, InetSocketAddress> v : voters.entrySet()) {
            String where = v.getValue().getHostString() + ":" + v.getValue().getPort();
            if (seen.contains(where)) {
                throw s.bad("group_voters", "gives two voters the same address " + where);
            }
            seen.add(where);
        }
        return voters;
    }

    /** An address without a port gets the group's default port (a bare IPv6 address is all host). */
    static String withPort(String address) {
        boolean hasPort = address.startsWith("[") ? address.contains("]:")
                : address.indexOf(':') >= 0 && address.indexOf(':') == address.lastIndexOf(':');
        if (hasPort) {
            return address;
        }
        return (address.indexOf(':') >= 0 && !address.startsWith("[") ? "[" + address + "]" : address) + ":" + DEFAULT_PORT;
    }

    private static double drift(Settings s) throws Settings.BadSetting {
        String v = s.string("clock_drift_bound", "").strip();
        if (v.isEmpty()) {
            return DEFAULT_CLOCK_DRIFT_BOUND;
        }
        double d;
        try {
            d = v.endsWith("%") ? Double.parseDouble(v.substring(0, v.length() - 1).strip()) / 100 : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw s.bad("clock_drift_bound", "is not a number (a fraction like 0.10, or 10%)");
        }
        if (!(d >= 0.01 && d <= 0.5)) {
            throw s.bad("clock_drift_bound", "must be between 0.01 and 0.5 (1% to 50%)");
        }
        return d;
    }
}
