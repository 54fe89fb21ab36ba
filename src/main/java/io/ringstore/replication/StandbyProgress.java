package io.ringstore.replication;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * What the standbys hold, from their reports: the primary's {@link ReplicaProgress}. Every peer
 * in the configuration is required; a peer that is not connected makes {@link #held} -1, so the
 * writer's replica modes wait (and fail, bounded) instead of silently acknowledging alone.
 *
 * <p>With a failover group the group decides who is required ({@link #requireOnly}): the
 * committed in-sync set less this board, plus the standbys being added back; none required
 * means the group committed "in sync: the primary only", and {@link #held} is then unbounded.
 *
 * <p>Also decides how far back retention must keep the log: at the lowest durable position of
 * the standbys that are connected or have been gone for less than the hold time.
 */
public final class StandbyProgress implements ReplicaProgress {
    /** One standby as last reported. */
    public record Standby(String board, boolean connected, long held, long durable, long changedNanos,
                          String lastProblem, long connection) {}

    private long connections;

    private List<String> required;
    /** The required set comes from a failover group (an empty one then means: acknowledge alone). */
    private boolean grouped;
    private final long holdNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Standby> standbys = new LinkedHashMap<>();
    /** Standbys whose hold on retention has lapsed (said once in the journal). */
    private final java.util.Set<String> lapsed = new java.util.HashSet<>();

    public StandbyProgress(List<String> required, long holdMillis, LongSupplier nanoTime) {
        this.required = List.copyOf(required);
        this.holdNanos = holdMillis * 1_000_000L;
        this.nanoTime = nanoTime;
    }

    /**
     * A failover group's in-sync set (less this board) and the standbys being added back: from
     * now on exactly these are required. Empty: the group committed the primary alone in sync.
     */
    public synchronized void requireOnly(java.util.Collection<String> boards) {
        List<String> next = List.copyOf(new java.util.TreeSet<>(boards));
        if (!next.equals(required) || !grouped) {
            Logger.info("replication: acknowledgements now wait for standbys={} (was {})", next, required);
        }
        required = next;
        grouped = true;
        notifyAll();
    }

    /** The standbys acknowledgements wait for now. */
    public synchronized List<String> required() {
        return required;
    }

    /** One standby as last reported; null when it never connected. */
    public synchronized Standby standby(String board) {
        return standbys.get(board);
    }

    /** A standby said hello and was welcomed, holding everything before {@code durable}. */
    public synchronized long connected(String board, long held, long durable) {
        long id = ++connections;
        standbys.put(board, new Standby(board, true, held, durable, nanoTime.getAsLong(), "", id));
        lapsed.remove(board);
        notifyAll();
        return id;
    }

    /** A standby reported what it holds. */
    public synchronized void report(String board, long connection, long held, long durable) {
        Standby s = standbys.get(board);
        if (s == null || !s.connected() || s.connection() != connection) {
            return;
        }
        standbys.put(board, new Standby(board, true, held, durable, s.changedNanos(), "", connection));
        notifyAll();
    }

    /** The standby's connection ended (it keeps holding retention back for the hold time). */
    public synchronized void disconnected(String board, long connection, String why) {
        Standby s = standbys.get(board);
        if (s == null || s.connection() != connection) {
            return; // a newer connection of the same standby took over
        }
        standbys.put(board, new Standby(board, false, s.held(), s.durable(), nanoTime.getAsLong(), why, connection));
        notifyAll();
    }

    @Override
    public synchronized long held(AckMode mode) {
        long min = Long.MAX_VALUE;
        for (String board : required) {
            Standby s = standbys.get(board);
            if (s == null || !s.connected()) {
                return -1;
            }
            min = Math.min(min, mode == AckMode.REPLICA_DURABLE ? s.durable() : s.held());
        }
        return min == Long.MAX_VALUE ? (grouped ? Long.MAX_VALUE : -1) : min;
    }

    @Override
    public synchronized boolean awaitHeld(AckMode mode, long position, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (held(mode) < position) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    @Override
    public synchronized String lagReason() {
        List<String> reasons = new ArrayList<>();
        long now = nanoTime.getAsLong();
        for (String board : required) {
            Standby s = standbys.get(board);
            if (s == null) {
                reasons.add("standby " + board + " has not connected since this board started");
            } else if (!s.connected()) {
                reasons.add("standby " + board + " disconnected " + (now - s.changedNanos()) / 1_000_000_000L + " s ago"
                        + (s.lastProblem().isEmpty() ? "" : " (" + s.lastProblem() + ")"));
            }
        }
        return String.join("; ", reasons);
    }

    /**
     * Cheap counts for the LED and the status line: {configured, connected, the lowest position a
     * connected one holds in memory (Long.MAX_VALUE when none is)}.
     */
    public synchronized long[] counts() {
        long connected = 0;
        long lowest = Long.MAX_VALUE;
        for (String board : required) {
            Standby s = standbys.get(board);
            if (s != null && s.connected()) {
                connected++;
                lowest = Math.min(lowest, s.held());
            }
        }
        return new long[] {required.size(), connected, lowest};
    }

    /** Every standby as last reported, for status. */
    public synchronized List<Standby> standbys() {
        return List.copyOf(standbys.values());
    }

    /**
     * The lowest durable position of the standbys still counted on: connected ones and those gone
     * for less than the hold time; {@link Long#MAX_VALUE} when none. Says once in the journal when
     * a standby stops holding retention back.
     */
    public synchronized long reclaimFloor() {
        long floor = Long.MAX_VALUE;
        long now = nanoTime.getAsLong();
        for (Standby s : standbys.values()) {
            if (!s.connected() && now - s.changedNanos() >= holdNanos) {
                if (lapsed.add(s.board())) {
                    Logger.warn("standby {} has been disconnected for {} s (standby_hold_seconds={}): retention no longer "
                            + "keeps log segments for it; if they are reclaimed it must be re-seeded from a copy "
                            + "position={}", s.board(), (now - s.changedNanos()) / 1_000_000_000L, holdNanos / 1_000_000_000L,
                            s.durable());
                }
                continue;
            }
            floor = Math.min(floor, s.durable());
        }
        return floor;
    }
}
