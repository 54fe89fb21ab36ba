package io.ringstore.replication.tls;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.tinylog.Logger;

/**
 * Connections refused at the handshake: each is logged with who and why (a wrong key is an
 * operator's mistake or an attack, and either must be visible in the journal), counted for
 * status, and the last few kept for status and tests.
 */
public final class Refusals {
    private static final int KEEP = 16;

    /**
     * One refusal.
     *
     * @param remote   the other end's address
     * @param inbound  whether the other end connected to this board
     * @param reason   why, as logged
     */
    public record Refusal(SocketAddress remote, boolean inbound, String reason) {}

    private final AtomicLong count = new AtomicLong();
    private final ArrayDeque<Refusal> recent = new ArrayDeque<>();

    void refused(SocketAddress remote, boolean inbound, String reason) {
        count.incrementAndGet();
        synchronized (recent) {
            if (recent.size() == KEEP) {
                recent.removeFirst();
            }
            recent.addLast(new Refusal(remote, inbound, reason));
            recent.notifyAll();
        }
        Logger.warn("replication connection refused: {}={} reason={}", inbound ? "from" : "to", remote, reason);
    }

    public long count() {
        return count.get();
    }

    /** The last few refusals, oldest first. */
    public List<Refusal> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }

    /** Waits until at least {@code n} refusals were counted; returns whether that happened in time. */
    public boolean awaitCount(long n, long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (recent) {
            while (count.get() < n) {
                long left = (end - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                recent.wait(left);
            }
            return true;
        }
    }
}
