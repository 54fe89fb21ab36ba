package io.ringstore.bench;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.replication.tls.BoardKeys;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two boards on this machine: a standby daemon child and a primary daemon child with replication
 * configured between them over loopback (TLS with mutual authentication, keys made once by
 * {@link BoardKeys} into the bench's folder), each with its own data folder. Started, the primary
 * reports its standby connected. Under the SD-card profile only the primary is moved into the
 * blkio group: the standby's disk stays unthrottled, as if it were a second board.
 */
final class ReplicaPair implements AutoCloseable {
    static final String PRIMARY = "b1";
    static final String STANDBY = "b2";
    private static final long CONNECT_TIMEOUT_MILLIS = 60_000;

    final Path keys;
    final int primaryPort;
    final int standbyPort;
    DaemonChild primary;
    DaemonChild standby;

    private ReplicaPair(Path keys, int primaryPort, int standbyPort) {
        this.keys = keys;
        this.primaryPort = primaryPort;
        this.standbyPort = standbyPort;
    }

    /** Keys for both boards under {@code keys} (made once; an existing set is reused), each trusting the other. */
    static Path makeKeys(Path keys) throws IOException {
        if (Files.exists(keys.resolve(STANDBY).resolve("peers").resolve(PRIMARY + ".crt"))) {
            return keys;
        }
        try {
            for (String b : List.of(PRIMARY, STANDBY)) {
                BoardKeys.generate(b, keys.resolve(b), BoardKeys.DEFAULT_DAYS, "-1d", null);
            }
        } catch (Exception e) {
            throw new IOException("cannot make the boards' TLS keys in " + keys + ": " + e, e);
        }
        for (String[] pair : new String[][] {{PRIMARY, STANDBY}, {STANDBY, PRIMARY}}) {
            Path peers = Files.createDirectories(keys.resolve(pair[0]).resolve("peers"));
            Files.copy(keys.resolve(pair[1]).resolve(pair[1] + ".crt"), peers.resolve(pair[1] + ".crt"));
        }
        return keys;
    }

    static ReplicaPair ports(Path keys) throws IOException {
        return new ReplicaPair(keys, freePort(), freePort());
    }

    /**
     * Starts the standby in {@code folder}/standby (acknowledging in {@code standbyAckMode} once
     * promoted), then the primary in {@code folder}/primary acknowledging in {@code ackMode}
     * (moved into {@code throttle} when given), and waits until the primary has its standby connected.
     */
    static ReplicaPair start(Path folder, Path keys, String ackMode, String standbyAckMode, boolean pi,
                             List<String> javaOptions, List<String> moreFlags, BlkioThrottle throttle)
            throws IOException, InterruptedException {
        ReplicaPair pair = ports(keys);
        try {
            pair.standby = pair.startStandby(folder.resolve("standby"), standbyAckMode, pi, javaOptions, moreFlags);
            pair.primary = pair.startPrimary(folder.resolve("primary"), ackMode, pi, javaOptions, moreFlags, throttle);
            pair.awaitConnected();
            return pair;
        } catch (IOException | RuntimeException | InterruptedException e) {
            pair.closeQuietly();
            throw e;
        }
    }

    DaemonChild startPrimary(Path folder, String ackMode, boolean pi, List<String> javaOptions, List<String> moreFlags,
                             BlkioThrottle throttle) throws IOException, InterruptedException {
        List<String> flags = new ArrayList<>(flags(PRIMARY, primaryPort, STANDBY, standbyPort, "primary", ackMode));
        flags.addAll(moreFlags);
        DaemonChild d = DaemonChild.start(folder, pi, javaOptions, flags);
        if (throttle != null) {
            // Moved once ready: its start-up (log files created, the first segment) is not throttled,
            // every append's force is.
            throttle.add(d.pid());
        }
        return d;
    }

    DaemonChild startStandby(Path folder, String ackMode, boolean pi, List<String> javaOptions, List<String> moreFlags)
            throws IOException, InterruptedException {
        List<String> flags = new ArrayList<>(flags(STANDBY, standbyPort, PRIMARY, primaryPort, "standby", ackMode));
        flags.addAll(List.of("--replication-primary", PRIMARY));
        flags.addAll(moreFlags);
        return DaemonChild.start(folder, pi, javaOptions, flags);
    }

    private List<String> flags(String me, int myPort, String other, int otherPort, String role, String ackMode) {
        return List.of("--role", role, "--ack-mode", ackMode, "--replication-listen", "127.0.0.1:" + myPort,
                "--replication-peers", other + "=127.0.0.1:" + otherPort,
                "--replication-key-store", keys.resolve(me).resolve(me + ".p12").toString(),
                "--replication-peer-certs", keys.resolve(me).resolve("peers").toString());
    }

    /** Polls the primary's status until it lists its standby as connected. */
    void awaitConnected() throws IOException, InterruptedException {
        try (RingStoreClient c = RingStoreClient.connect(primary.socket())) {
            long deadline = System.currentTimeMillis() + CONNECT_TIMEOUT_MILLIS;
            StatusResponse s = null;
            while (System.currentTimeMillis() < deadline) {
                s = status(c);
                if (s.getReplicationPeersList().stream().anyMatch(p -> p.startsWith("standby ") && p.contains(" connected"))) {
                    return;
                }
                Thread.sleep(20);
            }
            throw new IOException("the standby did not connect within " + CONNECT_TIMEOUT_MILLIS + " ms: peers="
                    + (s == null ? "?" : s.getReplicationPeersList()) + "\nprimary:\n" + primary.tail()
                    + "\nstandby:\n" + standby.tail());
        }
    }

    static StatusResponse status(RingStoreClient c) throws IOException {
        try {
            return c.status().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            throw new IOException("status failed: " + e, e);
        }
    }

    double cpuSeconds() {
        return (primary == null ? 0 : primary.cpuSeconds()) + (standby == null ? 0 : standby.cpuSeconds());
    }

    /** Stops the primary first (SIGTERM, exit 0), then the standby. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (DaemonChild d : new DaemonChild[] {primary, standby}) {
            if (d == null || !d.alive()) {
                continue;
            }
            try {
                d.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            // reported by the caller's own failure
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
