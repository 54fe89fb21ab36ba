package io.ringstore.split;

/**
 * How the splitter works; checked once.
 *
 * @param enabled          false runs the store without a splitter (reads come from the log)
 * @param windowBytes      unsplit log bytes at which a stream is moved to its file (its "ripe" size)
 * @param windowMillis     age of a stream's oldest unsplit event at which it is moved anyway
 * @param maxLagBytes      lag bound in log bytes: past it the splitter works even under pressure
 * @param maxLagSeconds    lag bound in seconds
 * @param maxLagEvents     lag bound in events (the tail index costs about 8 bytes an unsplit event)
 * @param overLimitDuty    share of time spent splitting while over the limit under pressure (0..1]
 * @param maxOpenFiles     stream file handles kept open
 * @param rememberedFiles  stream files whose last version is kept in memory
 * @param retainMillis     keep split log segments at least this long
 * @param retainBytes      keep at least the newest this many bytes of split log
 * @param pressure         pause/resume thresholds
 * @param nice             how far the splitter thread's Linux nice value is raised above the daemon's (0..19)
 */
public record SplitterOptions(boolean enabled, long windowBytes, long windowMillis, long maxLagBytes,
                              long maxLagSeconds, long maxLagEvents, double overLimitDuty, int maxOpenFiles, int rememberedFiles,
                              long retainMillis, long retainBytes, PressurePolicy pressure,
                              int nice) {

    /**
     * The splitter's default nice value. It is background work that may lag (by design, within
     * its bound), while the writer, the connections and the readers are what clients wait on; at
     * nice 0 its passes (bursts of file creations and writes, mostly kernel time) took CPU from
     * them on a board with few cores. Measured (bench, socket, 8 x 32, 600k events, 2 CPUs,
     * alternated): 52.0 / 44.6 / 53.0k ev/s at nice 0, 58.1 / 54.6 / 57.7k at nice 10. A
     * splitter starved past its lag bound still throttles the writer (see WriterThrottle), so a
     * busy CPU turns into back-pressure, not into unbounded lag.
     */
    public static final int DEFAULT_NICE = 10;

    /**
     * SD-card defaults: a stream is moved once it holds 16 KiB (a flash page or more per write,
     * whatever the number of streams) or its oldest event waited 30 s (a sparse stream still
     * reaches its file within a minute); a lag bound of 256 MiB, 10 minutes or 500,000 events
     * (4 MiB of tail index in a 64 MiB heap), a quarter of the time when forced past it under
     * pressure, more the further past; the thread at nice 10 (see {@link #DEFAULT_NICE}).
     */
    public static SplitterOptions defaults() {
        return new SplitterOptions(true, 16 << 10, 30_000, 256L << 20, 600, 500_000, 0.25, 256, 65_536,
                3_600_000, 512L << 20, PressurePolicy.defaults(), DEFAULT_NICE);
    }

    public SplitterOptions {
        if (windowBytes < 4096 || windowMillis < 1 || maxLagBytes < windowBytes || maxLagSeconds < 1 || maxLagEvents < 1) {
            throw new IllegalArgumentException("splitter window and lag bounds out of range");
        }
        if (overLimitDuty <= 0 || overLimitDuty > 1) {
            throw new IllegalArgumentException("overLimitDuty must be in (0, 1]: " + overLimitDuty);
        }
        if (nice < 0 || nice > 19) {
            throw new IllegalArgumentException("splitter nice must be in 0..19: " + nice);
        }
        if (maxOpenFiles < 1 || rememberedFiles < 1 || retainMillis < 0 || retainBytes < 0 || pressure == null) {
            throw new IllegalArgumentException("splitter file limits and retention out of range");
        }
    }

    public SplitterOptions withEnabled(boolean e) {
        return new SplitterOptions(e, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withWindow(long bytes, long millis) {
        return new SplitterOptions(enabled, bytes, millis, Math.max(maxLagBytes, bytes), maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withMaxLag(long bytes, long seconds) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, bytes, seconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withRetention(long millis, long bytes) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, millis, bytes, pressure, nice);
    }

    public SplitterOptions withMaxOpenFiles(int n) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                n, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withMaxLagEvents(long events) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, events, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withOverLimitDuty(double duty) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, duty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, nice);
    }

    public SplitterOptions withPressure(PressurePolicy p) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, p, nice);
    }

    public SplitterOptions withNice(int n) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure, n);
    }
}
