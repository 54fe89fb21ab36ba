package io.ringstore.replication;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Who this board replicates with and with which keys (ringstore.conf {@code replication_*}).
 * Replication is off, and nothing listens on the network, unless peers are configured.
 *
 * @param listen    where this board takes connections from its peers ({@code replication_listen}), or null for nowhere
 * @param peers     the other boards by name, in config order ({@code replication_peers}); addresses are
 *                  unresolved so that a name that does not resolve at start does not stop the daemon
 * @param keyStore  this board's private key and certificate ({@code replication_key_store}), made by
 *                  {@code ringstore replication keygen}
 * @param peerCerts the folder holding {@code <name>.crt} for every peer ({@code replication_peer_certs})
 */
public record ReplicationConfig(InetSocketAddress listen, Map<String, InetSocketAddress> peers, Path keyStore,
                                Path peerCerts) {
    /** The port used when an address in the config names none. */
    public static final int DEFAULT_PORT = 7411;
    /** Board names: safe as file names and as a certificate's CN without quoting. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public static final ReplicationConfig OFF = new ReplicationConfig(null, Map.of(), null, null);

    public ReplicationConfig {
        peers = Collections.unmodifiableMap(new LinkedHashMap<>(peers));
    }

    public boolean enabled() {
        return !peers.isEmpty();
    }

    /**
     * The address to bind or connect to, resolving a host name now (the config keeps them
     * unresolved so that a board's address may change after start).
     */
    public static InetSocketAddress resolve(InetSocketAddress a) {
        return a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
    }

    /** Checks a board name; returns it. */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a board name is 1 to 63 of a-z, 0-9, '-' and '_', starting with a letter or digit: "
                    + name);
        }
        return name;
    }

    /** {@code name=host:port, name=host:port}; the port may be left out ({@value #DEFAULT_PORT}). */
    public static Map<String, InetSocketAddress> parsePeers(String list) {
        Map<String, InetSocketAddress> peers = new LinkedHashMap<>();
        for (String entry : list.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected name=host:port, got: " + e);
            }
            String name = checkName(e.substring(0, eq).strip());
            if (peers.put(name, parseAddress(e.substring(eq + 1).strip())) != null) {
                throw new IllegalArgumentException("peer " + name + " is named twice");
            }
        }
        return peers;
    }

    /**
     * {@code host:port}, {@code host}, {@code [v6]:port} or {@code :port} (every interface); a
     * bare IPv6 address ({@code fe80::1}) is all host, with the default port.
     */
    public static InetSocketAddress parseAddress(String s) {
        String host = s;
        int port = DEFAULT_PORT;
        int colon = s.lastIndexOf(':');
        boolean bracketed = s.startsWith("[");
        if (colon >= 0 && (!bracketed || colon > s.indexOf(']')) && (bracketed || s.indexOf(':') == colon)) {
            host = s.substring(0, colon);
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a port number in " + s);
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port out of range in " + s);
            }
        }
        if (bracketed) {
            if (!host.endsWith("]")) {
                throw new IllegalArgumentException("unclosed [ in " + s);
            }
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            host = "0.0.0.0";
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
