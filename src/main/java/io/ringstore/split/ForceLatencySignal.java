package io.ringstore.split;

import java.util.Arrays;

/**
 * The writer's force latency as a pressure signal: how much slower the last few seconds of
 * forces were than this card's own usual, and nothing at all once no force has happened for a
 * window (no writes, no pressure).
 *
 * <ul>
 *   <li><b>Recent</b>: the p99 of the forces seen in the last window (a sliding window).
 *   <li><b>Baseline</b>: the median of the p99s of the last {@code baselineWindows} windows that
 *       had forces (windows without forces are skipped, so idle hours do not wash it out). A card
 *       whose forces usually take 100 ms is not busy at 100 ms; a stall shorter than half the
 *       baseline's span never becomes the norm. Until {@value #MIN_BASELINE_WINDOWS} windows have
 *       closed there is no baseline and the signal says nothing (the queue and PSI still speak).
 *   <li><b>Signal</b>: recent / baseline; 0 while the recent p99 is under {@code floorMicros}
 *       (a force that quick is not a card in trouble, whatever a fast disk's baseline).
 * </ul>
 *
 * <p>Used by one thread (the splitter's, through {@link SystemPressureGauge}); a sample's time is
 * when the gauge saw it, which is at most one gauge poll (100 ms) after the force.
 */
final class ForceLatencySignal {
    static final int MIN_BASELINE_WINDOWS = 3;
    /** Samples held for the recent window at most (the newest win): bounds memory on a fast disk. */
    private static final int MAX_RECENT = 4096;

    private final long windowNanos;
    private final long floorMicros;
    private final long[] recentNanos = new long[MAX_RECENT];
    private final long[] recentMicros = new long[MAX_RECENT];
    /** Index of the oldest recent sample and how many there are (a ring). */
    private int recentHead;
    private int recentCount;
    /** Start of the window being filled, or -1 when none is open (no force since the last closed). */
    private long windowStartNanos = -1;
    private final long[] baselineP99s;
    private int baselineNext;
    private int baselineCount;

    ForceLatencySignal(long windowMillis, int baselineWindows, long floorMicros) {
        this.windowNanos = windowMillis * 1_000_000L;
        this.floorMicros = floorMicros;
        this.baselineP99s = new long[baselineWindows];
    }

    /** Records a force that took {@code micros}, seen at {@code nowNanos}. */
    void add(long micros, long nowNanos) {
        advance(nowNanos);
        if (windowStartNanos < 0) {
            windowStartNanos = nowNanos;
        }
        if (recentCount == MAX_RECENT) {
            recentHead = (recentHead + 1) % MAX_RECENT;
            recentCount--;
        }
        int i = (recentHead + recentCount) % MAX_RECENT;
        recentNanos[i] = nowNanos;
        recentMicros[i] = micros;
        recentCount++;
    }

    /**
     * The recent p99 as a multiple of the baseline; 0 with no force in the last window, no
     * baseline yet, or a recent p99 under the floor.
     */
    double slowdown(long nowNanos) {
        advance(nowNanos);
        if (recentCount == 0 || baselineCount < MIN_BASELINE_WINDOWS) {
            return 0;
        }
        long recent = p99(recentNanos[recentHead]);
        if (recent < floorMicros) {
            return 0;
        }
        return (double) recent / Math.max(1, baseline());
    }

    /** The card's usual force p99 (micros), or -1 while there is no baseline yet. */
    long baseline() {
        if (baselineCount < MIN_BASELINE_WINDOWS) {
            return -1;
        }
        long[] sorted = Arrays.copyOf(baselineP99s, baselineCount);
        Arrays.sort(sorted);
        return sorted[baselineCount / 2];
    }

    /** Closes the open window if its time is up (into the baseline), then forgets samples older than a window. */
    private void advance(long nowNanos) {
        if (windowStartNanos >= 0 && nowNanos - windowStartNanos >= windowNanos) {
            // Before pruning: the closing window's samples are all still held.
            long p99 = p99(windowStartNanos);
            if (p99 >= 0) {
                baselineP99s[baselineNext] = p99;
                baselineNext = (baselineNext + 1) % baselineP99s.length;
                baselineCount = Math.min(baselineCount + 1, baselineP99s.length);
            }
            windowStartNanos = -1;
        }
        while (recentCount > 0 && nowNanos - recentNanos[recentHead] >= windowNanos) {
            recentHead = (recentHead + 1) % MAX_RECENT;
            recentCount--;
        }
    }

    /** The p99 of the held samples seen at or after {@code fromNanos} (within the window after it); -1 if none. */
    private long p99(long fromNanos) {
        long[] values = new long[recentCount];
        int n = 0;
        for (int k = 0; k < recentCount; k++) {
            int i = (recentHead + k) % MAX_RECENT;
            long t = recentNanos[i] - fromNanos;
            if (t >= 0 && t < windowNanos) {
                values[n++] = recentMicros[i];
            }
        }
        if (n == 0) {
            return -1;
        }
        Arrays.sort(values, 0, n);
        return values[(int) Math.min(n - 1, Math.floor(n * 0.99))];
    }
}
