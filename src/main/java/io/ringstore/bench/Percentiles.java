package io.ringstore.bench;

/** Nearest-rank percentiles of a sorted sample (the same rule as the writer's force stats). */
final class Percentiles {
    private Percentiles() {}

    /** The value at quantile {@code q} (0..1) of {@code sorted}; 0 for an empty sample. */
    static long of(long[] sorted, double q) {
        int n = sorted.length;
        if (n == 0) {
            return 0;
        }
        return sorted[(int) Math.min(n - 1, Math.floor(n * q))];
    }
}
