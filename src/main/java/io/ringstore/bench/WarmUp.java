package io.ringstore.bench;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * Warms the process that holds a target's data before a configuration is measured. A daemon in
 * service compiled its hot code long ago; a fresh daemon child has not, and while its compiler
 * works the measured window pays for it (one 8x32 socket run after 10,000 warm-up appends: the
 * daemon's C1/C2 threads took 4-5 us of CPU per event, a fifth of both CPUs, and the whole-stream
 * reads that followed waited behind them). So the work is repeated in rounds until, over at least
 * a second, the compiler threads of that process used under {@link #QUIET_SHARE} of one CPU, or a
 * time limit passed. The bench's own JVM, which holds the in-process targets, is warm after the
 * first configurations and goes quiet at once; a daemon child that keeps recompiling (the
 * splitter's bursts change its profile) runs to the limit, and the row says so.
 */
final class WarmUp {
    /** The compiler threads' share of one CPU below which the process counts as warm. */
    static final double QUIET_SHARE = 0.05;
    private static final long WINDOW_NANOS = 1_000_000_000L;
    /** A round after the first: about this much of a second at the rate seen so far. */
    private static final double ROUND_SECONDS = 0.25;

    /** One round of warm-up work of about {@code size} units (appends, reads); returns the units done. */
    interface Round {
        long run(int round, int size) throws IOException, InterruptedException;
    }

    /**
     * What a warm-up did.
     *
     * @param units    appends or reads done
     * @param seconds  how long it took
     * @param jitShare the compiler threads' share of one CPU over the last full window (NaN: none measured)
     * @param quiet    whether it ended because the compiler went quiet (else: at the minimum, or at the limit)
     */
    record Result(long units, double seconds, double jitShare, boolean quiet) {
        static final Result NONE = new Result(0, 0, Double.NaN, false);

        /** "12,000 appends in 0.9 s, compiler quiet (3% of a CPU)", for the progress line. */
        String describe(String unit) {
            if (units == 0) {
                return "none";
            }
            String jit = Double.isNaN(jitShare) ? "" : String.format(Locale.ROOT, "%s (%.0f%% of a CPU)",
                    quiet ? ", compiler quiet" : ", compiler still busy", 100 * jitShare);
            return String.format(Locale.ROOT, "%,d %s in %.1f s%s", units, unit, seconds, jit);
        }
    }

    private WarmUp() {}

    /**
     * Runs rounds of {@code work} in process {@code pid}'s service: at least {@code minUnits}, then
     * on until its compiler went quiet over a window of a second, for at most {@code maxSeconds}
     * in all (0: {@code minUnits} only, in one round, as the bench did before).
     */
    static Result run(long pid, int minUnits, double maxSeconds, Round work) throws IOException, InterruptedException {
        if (minUnits <= 0) {
            return Result.NONE;
        }
        long start = System.nanoTime();
        long windowStart = start;
        ThreadCpu window = ThreadCpu.start(pid);
        long units = 0;
        int size = minUnits;
        double share = Double.NaN;
        for (int round = 0; ; round++) {
            units += work.run(round, size);
            long now = System.nanoTime();
            double seconds = (now - start) / 1e9;
            if (maxSeconds <= 0 && units >= minUnits) {
                return new Result(units, seconds, share, false);
            }
            if (now - windowStart >= WINDOW_NANOS) {
                share = jitSeconds(window.stop()) / ((now - windowStart) / 1e9);
                if (units >= minUnits && share < QUIET_SHARE) {
                    return new Result(units, seconds, share, true);
                }
                windowStart = now;
                window = ThreadCpu.start(pid);
            }
            if (units >= minUnits && seconds >= maxSeconds) {
                return new Result(units, seconds, share, false);
            }
            size = (int) Math.max(1, Math.min(1_000_000, units / seconds * ROUND_SECONDS));
        }
    }

    private static double jitSeconds(Map<String, double[]> groups) {
        double[] jit = groups.get(ThreadCpu.JIT_GROUP);
        return jit == null ? 0 : jit[0] + jit[1];
    }
}
