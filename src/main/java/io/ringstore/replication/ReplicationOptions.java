package io.ringstore.replication;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * How this board takes part in replication; validated once, here. Absent (null where a store is
 * opened) when replication is not configured: then nothing listens on the network.
 *
 * @param role            primary or standby at start (a primary that finds a newer epoch on a peer at
 *                        start follows it instead)
 * @param board           this board's name (its peers list it by this name)
 * @param listen          this board's replication port: a primary ships from it; a standby answers
 *                        probes on it and ships once promoted; null: none (a standby that cannot be
 *                        probed, and ships only once this is set)
 * @param primary         the peer a standby follows (required for a standby)
 * @param peers           the other boards; a primary ships only to these and waits for all of them in
 *                        the replica ack modes; a primary probes them for a newer epoch
 * @param standbyHoldMillis how long a disconnected standby still holds log segments back from retention
 * @param ackMode         when the primary acknowledges (told to standbys so that promotion knows what
 *                        was promised)
 * @param sockets         plain TCP or TLS
 */
public record ReplicationOptions(Role role, String board, InetSocketAddress listen, Peer primary,
                                 List<Peer> peers, long standbyHoldMillis, AckMode ackMode, ReplicationSockets sockets) {
    /** One other board: its name (proven by its certificate over TLS) and replication address. */
    public record Peer(String board, InetSocketAddress address) {}

    /** The peers of a {@link ReplicationConfig}, in config order. */
    public static List<Peer> peersOf(ReplicationConfig config) {
        return config.peers().entrySet().stream().map(e -> new Peer(e.getKey(), e.getValue())).toList();
    }

    /** Default {@code standby_hold_seconds}: a day of segments kept for a standby that is away. */
    public static final long DEFAULT_STANDBY_HOLD_MILLIS = 24L * 3600 * 1000;

    public ReplicationOptions {
        if (role == null || board == null || board.isBlank() || peers == null || ackMode == null || sockets == null) {
            throw new IllegalArgumentException("replication needs a role, a board name and a peers list");
        }
        if (role == Role.STANDBY && primary == null) {
            throw new IllegalArgumentException("a standby needs replication_primary (the name of a peer)");
        }
        if (role == Role.PRIMARY && listen == null) {
            throw new IllegalArgumentException("a primary needs replication_listen: its standbys connect to it");
        }
        if (standbyHoldMillis < 0) {
            throw new IllegalArgumentException("standby hold time must not be negative");
        }
        peers = List.copyOf(peers);
    }

    public ReplicationOptions withRole(Role r, Peer newPrimary) {
        return new ReplicationOptions(r, board, listen, newPrimary, peers, standbyHoldMillis, ackMode, sockets);
    }

    public ReplicationOptions withSockets(ReplicationSockets s) {
        return new ReplicationOptions(role, board, listen, primary, peers, standbyHoldMillis, ackMode, s);
    }

    public boolean isPeer(String name) {
        return peers.stream().anyMatch(p -> p.board().equals(name));
    }
}
