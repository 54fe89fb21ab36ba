package io.ringstore.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * TCP ports for tests that must name a port before something binds it (a voter's, a standby's,
 * a broker's). The usual trick, binding port 0 and closing, hands out a port from the kernel's
 * ephemeral range, where the next bind(0) anywhere (a fault proxy, a client's connection) may
 * take it before the test binds it: CI saw "Bind: Address already in use" in FailoverTest that
 * way. These come from below the ephemeral range (ports the kernel never hands out by itself),
 * are checked free by binding them, and are never handed out twice in this JVM.
 */
public final class FreePorts {
    private static final int LOWEST = 20_000;
    private static final Set<Integer> given = new HashSet<>();

    private FreePorts() {}

    /** A free port below the ephemeral range, not given out before in this JVM. */
    public static synchronized int next() throws IOException {
        int highest = ephemeralLow() - 1;
        if (highest <= LOWEST) {
            throw new IOException("no ports below the ephemeral range (ip_local_port_range starts at "
                    + (highest + 1) + ")");
        }
        int span = highest - LOWEST + 1;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = LOWEST + (start + i) % span;
            if (given.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(port));
                given.add(port);
                return port;
            } catch (IOException taken) {
                // in use by something else: try the next one
            }
        }
        throw new IOException("no free port in " + LOWEST + ".." + highest);
    }

    /** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
    private static int ephemeralLow() {
        try {
            // Read as lines: Files.readString of this /proc file returned its first byte only ("3").
            String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).getFirst().trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
