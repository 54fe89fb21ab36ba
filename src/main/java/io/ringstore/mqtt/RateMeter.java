package io.ringstore.mqtt;

/** Counts per second in a ring of one-second buckets; the rate is over the last full seconds. */
final class RateMeter {
    private static final int SECONDS = 10;
    private final long[] counts = new long[SECONDS];
    private final long[] seconds = new long[SECONDS];

    synchronized void add(long n, long nowNanos) {
        long second = nowNanos / 1_000_000_000L;
        int i = (int) Math.floorMod(second, (long) SECONDS);
        if (seconds[i] != second) {
            seconds[i] = second;
            counts[i] = 0;
        }
        counts[i] += n;
    }

    /** Per second over the {@value #SECONDS} seconds before the current one. */
    synchronized double rate(long nowNanos) {
        long now = nowNanos / 1_000_000_000L;
        long sum = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (seconds[i] < now && seconds[i] >= now - SECONDS) {
                sum += counts[i];
            }
        }
        return sum / (double) SECONDS;
    }
}
