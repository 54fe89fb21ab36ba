package io.ringstore.split;

/**
 * How the splitter works; checked once.
 *
 * @param enabled          false runs the store without a splitter (reads come from the log)
 * @param windowBytes      log bytes gathered into one window before it is split
 * @param windowMillis     oldest event's age at which a part-full window is split anyway
 * @param maxLagBytes      lag bound in log bytes: past it the splitter works even under pressure
 * @param maxLagSeconds    lag bound in seconds
 * @param maxLagEvents     lag bound in events (the tail index costs about 8 bytes an unsplit event)
 * @param overLimitDuty    share of time spent splitting while over the limit under pressure (0..1]
 * @param maxOpenFiles     stream file handles kept open
 * @param rememberedFiles  stream files whose last version is kept in memory
 * @param retainMillis     keep split log segments at least this long
 * @param retainBytes      keep at least the newest this many bytes of split log
 * @param pressure         pause/resume thresholds
 */
public record SplitterOptions(boolean enabled, long windowBytes, long windowMillis, long maxLagBytes,
                              long maxLagSeconds, long maxLagEvents, double overLimitDuty, int maxOpenFiles, int rememberedFiles,
                              long retainMillis, long retainBytes, PressurePolicy pressure) {

    /**
     * SD-card defaults: 1 MiB or 2 s per window (large sequential groups, little lag), a lag
     * bound of 256 MiB, 10 minutes or 500,000 events (4 MiB of tail index in a 64 MiB heap),
     * a quarter of the time when forced past it, more the further past.
     */
    public static SplitterOptions defaults() {
        return new SplitterOptions(true, 1 << 20, 2_000, 256L << 20, 600, 500_000, 0.25, 256, 65_536,
                3_600_000, 512L << 20, PressurePolicy.defaults());
    }

    public SplitterOptions {
        if (windowBytes < 4096 || windowMillis < 1 || maxLagBytes < windowBytes || maxLagSeconds < 1 || maxLagEvents < 1) {
            throw new IllegalArgumentException("splitter window and lag bounds out of range");
        }
        if (overLimitDuty <= 0 || overLimitDuty > 1) {
            throw new IllegalArgumentException("overLimitDuty must be in (0, 1]: " + overLimitDuty);
        }
        if (maxOpenFiles < 1 || rememberedFiles < 1 || retainMillis < 0 || retainBytes < 0 || pressure == null) {
            throw new IllegalArgumentException("splitter file limits and retention out of range");
        }
    }

    public SplitterOptions withEnabled(boolean e) {
        return new SplitterOptions(e, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withWindow(long bytes, long millis) {
        return new SplitterOptions(enabled, bytes, millis, Math.max(maxLagBytes, bytes), maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withMaxLag(long bytes, long seconds) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, bytes, seconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withRetention(long millis, long bytes) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, millis, bytes, pressure);
    }

    public SplitterOptions withMaxOpenFiles(int n) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                n, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withMaxLagEvents(long events) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, events, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withOverLimitDuty(double duty) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, duty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, pressure);
    }

    public SplitterOptions withPressure(PressurePolicy p) {
        return new SplitterOptions(enabled, windowBytes, windowMillis, maxLagBytes, maxLagSeconds, maxLagEvents, overLimitDuty,
                maxOpenFiles, rememberedFiles, retainMillis, retainBytes, p);
    }
}
