package io.ringstore.split;

/**
 * Keeps the splitter's lag bounded when the writer is faster than the splitter can move events
 * (with thousands of streams, under I/O pressure, or while retention rewrites stream files on
 * the same thread): past the lag bound, the writer is held to the rate at which the splitter
 * has been moving log bytes, a little under it the further past the bound the lag is.
 *
 * <p>Why slow the writer rather than let the lag grow: the unsplit log cannot be reclaimed, so
 * a lag that grows without bound ends, on a card with a disk budget, in appends refused with
 * STORAGE_FULL, and after a crash in a long start-up scan. A steady writer that is slowed to
 * what the store can sustain loses nothing; one that is refused loses its events.
 *
 * <p>Rules: engaged when the lag ratio (see {@code Splitter.lagRatio}) passes 1, released
 * under {@link #RELEASE_RATIO}; the limit is the splitter's moving rate over the last
 * {@link #WINDOW_NANOS} times {@code 2 - ratio} (clamped to [0.5, 1]), and never under
 * {@link #FLOOR_BYTES_PER_SECOND}, so that a stalled or failing splitter slows writes but never
 * stops them (its own fault shows on the LEDs). Written on the splitter thread, read by the
 * writer.
 */
public final class WriterThrottle {
    /** The writer always gets at least this (about 900 events of 256 bytes a second). */
    static final long FLOOR_BYTES_PER_SECOND = 256L << 10;
    static final double RELEASE_RATIO = 0.95;
    static final long WINDOW_NANOS = 2_000_000_000L;

    private volatile long bytesPerSecond;
    private boolean engaged;
    private long windowStartNanos = System.nanoTime();
    private long windowStartMoved;
    private double movedRate;

    /** The writer's limit in log bytes a second, or 0 when it may write at full speed. */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** The splitter stopped: the writer is no longer held. */
    void release() {
        engaged = false;
        bytesPerSecond = 0;
    }

    /**
     * Splitter thread, once per loop.
     *
     * @param lagRatio   how far behind the splitter is, as a multiple of its bound
     * @param movedBytes log bytes moved to stream files since start
     * @param active     false when splitting cannot help (stopping, failing): no limit then
     */
    void update(double lagRatio, long movedBytes, boolean active, long nowNanos) {
        long elapsed = nowNanos - windowStartNanos;
        if (elapsed >= WINDOW_NANOS) {
            movedRate = (movedBytes - windowStartMoved) * 1e9 / elapsed;
            windowStartNanos = nowNanos;
            windowStartMoved = movedBytes;
        }
        if (!active) {
            engaged = false;
        } else if (lagRatio > 1) {
            engaged = true;
        } else if (lagRatio < RELEASE_RATIO) {
            engaged = false;
        }
        if (!engaged) {
            bytesPerSecond = 0;
            return;
        }
        double share = Math.clamp(2 - lagRatio, 0.5, 1.0);
        bytesPerSecond = Math.max(FLOOR_BYTES_PER_SECOND, (long) (movedRate * share));
    }
}
