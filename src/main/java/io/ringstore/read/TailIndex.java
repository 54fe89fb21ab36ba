package io.ringstore.read;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where each stream's unsplit events sit in the main log: per stream, the first version not yet
 * in its stream file, the log positions of that version and the ones after it, about how many
 * log bytes they take and since when the oldest of them has waited. The splitter decides from
 * these which streams to move (a stream is "ripe" once it holds enough bytes or has waited long
 * enough) and where the oldest unsplit event is (its checkpoint, and the limit of retention).
 *
 * <p>The writer adds positions before it acknowledges an append (so a read that starts after
 * the ack finds them); the splitter trims them only after the stream file holding those
 * versions is durable (so a reader that took a snapshot with first version {@code b} finds
 * every version below {@code b} in the file). Readers take snapshots on their own threads.
 *
 * <p>After a restart the index is rebuilt from the splitter's checkpoint on, so it may name
 * versions a stream file already holds; the splitter skips those (its copy is idempotent) and
 * readers read them from the log, which holds the same bytes.
 *
 * <p>Memory is bounded by the splitter's lag: 8 bytes per unsplit event plus a small entry per
 * stream with unsplit events (about 150 bytes with its map node).
 */
public final class TailIndex {
    private final ConcurrentHashMap<String, Tail> tails = new ConcurrentHashMap<>();
    private final AtomicLong events = new AtomicLong();
    /** Log bytes of all unsplit events (the disk budget counts them as bytes still to be copied). */
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong ripeSignals = new AtomicLong();
    private final long ripeBytes;

    private static final class Tail {
        long base;
        long[] positions;
        int count;
        long bytes;
        long sinceMillis;

        Tail(long base, int capacity) {
            this.base = base;
            this.positions = new long[capacity];
        }
    }

    /** What a reader sees: versions {@code base .. base + positions.length - 1} are at these positions. */
    public record Snapshot(long base, long[] positions) {
        public long lastVersion() {
            return base + positions.length - 1;
        }
    }

    /** What the splitter sees of one stream when it plans a pass. */
    public record Pending(String stream, long firstPosition, int events, long bytes, long sinceMillis) {}

    /**
     * @param ripeBytes unsplit bytes at which a stream is worth moving on its own; the writer
     *                  counts each stream that crosses it (see {@link #ripeSignals()})
     */
    public TailIndex(long ripeBytes) {
        this.ripeBytes = ripeBytes;
    }

    /**
     * Writer: versions {@code firstVersion ..} of {@code stream} were written at
     * {@code positions[0..n)}, taking {@code bytes} of log.
     */
    public void add(String stream, long firstVersion, long[] positions, int n, long bytes) {
        long now = System.currentTimeMillis();
        boolean[] crossed = new boolean[1];
        tails.compute(stream, (k, t) -> {
            if (t == null) {
                t = new Tail(firstVersion, n);
            }
            synchronized (t) {
                if (t.count == 0) {
                    t.base = firstVersion;
                    t.bytes = 0;
                    t.sinceMillis = now;
                } else if (t.base + t.count != firstVersion) {
                    throw new IllegalStateException("tail index gap: stream=" + stream + " expected version "
                            + (t.base + t.count) + " got " + firstVersion);
                }
                if (t.count + n > t.positions.length) {
                    t.positions = Arrays.copyOf(t.positions, Math.max(t.count + n, t.positions.length * 2));
                }
                System.arraycopy(positions, 0, t.positions, t.count, n);
                t.count += n;
                crossed[0] = t.bytes < ripeBytes && t.bytes + bytes >= ripeBytes;
                t.bytes += bytes;
            }
            return t;
        });
        this.bytes.addAndGet(bytes);
        events.addAndGet(n);
        if (crossed[0]) {
            ripeSignals.incrementAndGet();
        }
    }

    /** Writer: forgets versions from {@code version} on (an append whose force failed). */
    public void truncateFrom(String stream, long version) {
        tails.computeIfPresent(stream, (k, t) -> {
            synchronized (t) {
                int keep = (int) Math.max(0, Math.min(t.count, version - t.base));
                events.addAndGet(keep - t.count);
                if (keep == 0) {
                    // Only a stream's total is known: part of a tail stays counted until it is split.
                    bytes.addAndGet(-t.bytes);
                    t.bytes = 0;
                }
                t.count = keep;
                return t.count == 0 ? null : t;
            }
        });
    }

    /**
     * Splitter: versions up to and including {@code version} are durable in the stream file;
     * they took {@code bytes} of log.
     */
    public void trimThrough(String stream, long version, long bytes) {
        long now = System.currentTimeMillis();
        tails.computeIfPresent(stream, (k, t) -> {
            synchronized (t) {
                int drop = (int) Math.max(0, Math.min(t.count, version - t.base + 1));
                if (drop > 0) {
                    System.arraycopy(t.positions, drop, t.positions, 0, t.count - drop);
                    t.count -= drop;
                    t.base += drop;
                    // A stream with nothing left unsplit holds no bytes, whatever the pass counted.
                    long freed = t.count == 0 ? t.bytes : Math.min(t.bytes, bytes);
                    t.bytes -= freed;
                    this.bytes.addAndGet(-freed);
                    // What stays was written after the pass that moved the rest began: it has
                    // waited for no more than that pass took.
                    t.sinceMillis = now;
                    events.addAndGet(-drop);
                    if (t.positions.length > 64 && t.count < t.positions.length / 4) {
                        t.positions = Arrays.copyOf(t.positions, Math.max(1, t.count * 2));
                    }
                }
                return t.count == 0 ? null : t;
            }
        });
    }

    /**
     * Reader and splitter: the unsplit versions of {@code stream} below {@code committedPosition},
     * or null when every written version is in the stream file (or the stream was never written).
     */
    public Snapshot snapshot(String stream, long committedPosition) {
        Tail t = tails.get(stream);
        if (t == null) {
            return null;
        }
        synchronized (t) {
            int n = t.count;
            while (n > 0 && t.positions[n - 1] >= committedPosition) {
                n--;
            }
            if (t.count == 0) {
                return null;
            }
            return new Snapshot(t.base, Arrays.copyOf(t.positions, n));
        }
    }

    /** What {@link #lastVersion} answers when the index holds no unsplit version of the stream. */
    public static final long NOT_INDEXED = Long.MIN_VALUE;

    /**
     * Reader: what {@code snapshot(stream, committedPosition).lastVersion()} would answer, without
     * copying the positions ({@code $all} reads ask this per stream per page), or
     * {@link #NOT_INDEXED} when the snapshot would be null.
     */
    public long lastVersion(String stream, long committedPosition) {
        Tail t = tails.get(stream);
        if (t == null) {
            return NOT_INDEXED;
        }
        synchronized (t) {
            if (t.count == 0) {
                return NOT_INDEXED;
            }
            int n = t.count;
            while (n > 0 && t.positions[n - 1] >= committedPosition) {
                n--;
            }
            return t.base + n - 1;
        }
    }

    /**
     * Splitter: every stream with unsplit events, as they are now. Every event committed before
     * this call started is in some stream's entry (the writer indexes before it commits).
     */
    public void forEachPending(java.util.function.Consumer<Pending> visitor) {
        for (var e : tails.entrySet()) {
            Tail t = e.getValue();
            Pending p;
            synchronized (t) {
                if (t.count == 0) {
                    continue;
                }
                p = new Pending(e.getKey(), t.positions[0], t.count, t.bytes, t.sinceMillis);
            }
            visitor.accept(p);
        }
    }

    /** How many times a stream's unsplit bytes crossed the ripe size (only ever grows). */
    public long ripeSignals() {
        return ripeSignals.get();
    }

    /** Unsplit events in all streams. */
    public long events() {
        return events.get();
    }

    /** Log bytes of the unsplit events in all streams (approximate after a failed force: never less). */
    public long bytes() {
        return bytes.get();
    }

    /** Streams with unsplit events. */
    public int streams() {
        return tails.size();
    }
}
