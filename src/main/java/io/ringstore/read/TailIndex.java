package io.ringstore.read;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where each stream's unsplit events sit in the main log: per stream, the first version not yet
 * in its stream file and the log positions of that version and the ones after it.
 *
 * <p>The writer adds positions before it acknowledges an append (so a read that starts after
 * the ack finds them); the splitter trims them only after the stream file holding those
 * versions is durable (so a reader that took a snapshot with first version {@code b} finds
 * every version below {@code b} in the file). Readers take snapshots on their own threads.
 * Memory is bounded by the splitter's lag: 8 bytes per unsplit event plus a small entry per
 * stream with unsplit events.
 */
public final class TailIndex {
    private final ConcurrentHashMap<String, Tail> tails = new ConcurrentHashMap<>();
    private final AtomicLong events = new AtomicLong();

    private static final class Tail {
        long base;
        long[] positions;
        int count;

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

    /** Writer: versions {@code firstVersion ..} of {@code stream} were written at {@code positions[0..n)}. */
    public void add(String stream, long firstVersion, long[] positions, int n) {
        tails.compute(stream, (k, t) -> {
            if (t == null) {
                t = new Tail(firstVersion, n);
            }
            synchronized (t) {
                if (t.count == 0) {
                    t.base = firstVersion;
                } else if (t.base + t.count != firstVersion) {
                    throw new IllegalStateException("tail index gap: stream=" + stream + " expected version "
                            + (t.base + t.count) + " got " + firstVersion);
                }
                if (t.count + n > t.positions.length) {
                    t.positions = Arrays.copyOf(t.positions, Math.max(t.count + n, t.positions.length * 2));
                }
                System.arraycopy(positions, 0, t.positions, t.count, n);
                t.count += n;
            }
            return t;
        });
        events.addAndGet(n);
    }

    /** Writer: forgets versions from {@code version} on (an append whose force failed). */
    public void truncateFrom(String stream, long version) {
        tails.computeIfPresent(stream, (k, t) -> {
            synchronized (t) {
                int keep = (int) Math.max(0, Math.min(t.count, version - t.base));
                events.addAndGet(keep - t.count);
                t.count = keep;
                return t.count == 0 ? null : t;
            }
        });
    }

    /** Splitter: versions up to and including {@code version} are durable in the stream file. */
    public void trimThrough(String stream, long version) {
        tails.computeIfPresent(stream, (k, t) -> {
            synchronized (t) {
                int drop = (int) Math.max(0, Math.min(t.count, version - t.base + 1));
                if (drop > 0) {
                    System.arraycopy(t.positions, drop, t.positions, 0, t.count - drop);
                    t.count -= drop;
                    t.base += drop;
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
     * Reader: the unsplit versions of {@code stream} below the committed position, or null when
     * every written version is in the stream file (or the stream was never written).
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

    /** Unsplit events in all streams. */
    public long events() {
        return events.get();
    }

    /** Streams with unsplit events. */
    public int streams() {
        return tails.size();
    }
}
