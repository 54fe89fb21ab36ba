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
 *                        probes on it and ships once promoted
 * @param primary         the primary a standby follows (required for a standby)
 * @param peers           the other boards; a primary ships only to these and waits for all of them in
 *                        the replica ack modes; a primary probes them for a newer epoch
 * @param standbyHoldMillis how long a disconnected standby still holds log segments back from retention
 * @param ackMode         when the primary acknowledges (told to standbys so that promotion knows what
 *                        was promised)
 * @param sockets         plain TCP or TLS
 */
public record ReplicationOptions(Role role, String board, InetSocketAddress listen, InetSocketAddress primary,
                                 List<Peer> peers, long standbyHoldMillis, AckMode ackMode, ReplicationSockets sockets) {
    /** One other board: its name and replication address. */
    public record Peer(String board, InetSocketAddress address) {
        /** Parses {@code name@host:port}. */
        public static Peer parse(String s) {
            String t = s.strip();
            int at = t.indexOf('@');
            if (at <= 0) {
                throw new IllegalArgumentException("a peer is name@host:port: " + s);
            }
            return new Peer(t.substring(0, at), ReplicationOptions.address(t.substring(at + 1)));
        }
    }

    /** Default {@code standby_hold_seconds}: a day of segments kept for a standby that is away. */
    public static final long DEFAULT_STANDBY_HOLD_MILLIS = 24L * 3600 * 1000;

    public ReplicationOptions {
        if (role == null || board == null || board.isBlank() || peers == null || ackMode == null || sockets == null) {
            throw new IllegalArgumentException("replication needs a role, a board name and a peers list");
        }
        if (role == Role.STANDBY && primary == null) {
            throw new IllegalArgumentException("a standby needs replication_primary (host:port)");
        }
        if (listen == null) {
            throw new IllegalArgumentException("replication needs replication_listen (host:port): a primary ships from it, "
                    + "a standby answers probes on it and ships once promoted");
        }
        if (standbyHoldMillis < 0) {
            throw new IllegalArgumentException("standby hold time must not be negative");
        }
        peers = List.copyOf(peers);
    }

    public ReplicationOptions withRole(Role r, InetSocketAddress newPrimary) {
        return new ReplicationOptions(r, board, listen, newPrimary, peers, standbyHoldMillis, ackMode, sockets);
    }

    public ReplicationOptions withSockets(ReplicationSockets s) {
        return new ReplicationOptions(role, board, listen, primary, peers, standbyHoldMillis, ackMode, s);
    }

    public boolean isPeer(String name) {
        return peers.stream().anyMatch(p -> p.board().equals(name));
    }

    /** Parses {@code host:port} ({@code [v6]:port} too). */
    public static InetSocketAddress address(String s) {
        String t = s.strip();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("an address is host:port: " + s);
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number: " + s);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + s);
        }
        return new InetSocketAddress(host, port);
    }
}
