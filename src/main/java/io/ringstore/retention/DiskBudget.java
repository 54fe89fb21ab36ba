package io.ringstore.retention;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The store's disk budget and where usage stands against it. Usage is measured by the
 * compactor (see {@link StreamCompactor}); appends are refused with STORAGE_FULL while
 * {@code usage + unsplit + headroom > budget}, and accepted again as soon as that is no longer
 * so (the margin below the budget is the headroom):
 * <ul>
 *   <li>{@code unsplit}: log bytes the splitter has not copied into stream files yet. Each of
 *       them will be written once more before the log segment holding it can go, so usage is
 *       bound to grow by that much even with no new append. A splitter that lags far behind a
 *       fast writer (its lag bound is 256 MiB by default, more than a small card) otherwise
 *       takes usage past the budget, and past the filesystem.</li>
 *   <li>{@code headroom}: one log segment (the next roll) and one splitter pass
 *       ({@link #SPLITTER_PASS_BYTES}): the steps by which usage grows between two
 *       measurements.</li>
 * </ul>
 *
 * <p>The budget itself is re-evaluated at every measurement: the smaller of the byte budget and
 * the percentage of the space the store can have (usage + what the filesystem has free now), and
 * never more than that space, so that the overshoot by design stays inside the filesystem. Space
 * that appears while the store runs (a grown partition, files deleted elsewhere) counts at once,
 * as does space taken by others.
 *
 * <p>Until the first measurement (a walk of the data folder, done in the background after start
 * so that readiness does not wait for it) nothing is refused here; the log's own free-space check
 * on each roll still guards the filesystem.
 */
public final class DiskBudget {
    /**
     * What the splitter may copy into stream files in one pass before the log segments holding
     * those events can go (its pass bound, 4 MiB): for that moment the bytes exist twice.
     */
    static final long SPLITTER_PASS_BYTES = 4L << 20;

    private final long byteBudget;
    private final int percent;
    private final int lowWaterPercent;
    private final long headroomBytes;
    private final long minimumBytes;
    private final Path statPath;
    private volatile long budgetBytes;
    private volatile long usageBytes;
    private volatile long unsplitBytes;
    private volatile boolean measured;
    private volatile boolean refusing;
    private volatile java.util.function.LongSupplier logPosition = () -> 0;
    private volatile long logPositionAtMeasure;
    private boolean raised;

    /**
     * A fixed budget of {@code budgetBytes} (tests, tools): no percentage, no filesystem cap.
     *
     * @param headroomBytes usage may grow by this much at once (a log segment and a splitter pass)
     */
    public DiskBudget(long budgetBytes, int lowWaterPercent, long headroomBytes) {
        this(budgetBytes, 0, lowWaterPercent, headroomBytes, 0, null);
    }

    private DiskBudget(long byteBudget, int percent, int lowWaterPercent, long headroomBytes, long minimumBytes,
                       Path statPath) {
        if (byteBudget <= 0 && percent <= 0) {
            throw new IllegalArgumentException("disk budget must be > 0: bytes=" + byteBudget + " percent=" + percent);
        }
        this.byteBudget = byteBudget > 0 ? byteBudget : Long.MAX_VALUE;
        this.percent = percent;
        this.lowWaterPercent = lowWaterPercent;
        this.headroomBytes = headroomBytes;
        this.minimumBytes = minimumBytes;
        this.statPath = statPath;
        this.budgetBytes = evaluate(0, free());
    }

    /**
     * The budget for a store in {@code dataDir}: the smaller of the byte and the percentage
     * budget. A percentage is of the space the store can have: what it uses plus what the
     * filesystem has free, re-evaluated at each measurement. On a Pi the store usually shares the
     * card with the system, so a percentage of the card's size could be more than is free; this
     * way the rest of the free space is always left to the system. A percentage that comes to
     * less than the store needs to work is raised to that (with a warning): the card is nearly
     * full, and the log's own free-space check on each roll still guards it. Reads no folder:
     * until the first {@link #update} the store's own usage counts as 0.
     */
    public static DiskBudget of(RetentionOptions options, Path dataDir, long segmentSize) {
        long minimum = 2 * (segmentSize + SPLITTER_PASS_BYTES) + 1;
        if (options.budgetBytes() > 0 && options.budgetBytes() < minimum) {
            throw new IllegalArgumentException("disk budget " + options.budgetBytes() + " bytes leaves no room: it must be "
                    + "more than two log segments and 8 MiB (" + (minimum - 1) + " bytes)");
        }
        Path p = dataDir.toAbsolutePath();
        while (p.getParent() != null && !Files.exists(p)) {
            p = p.getParent();
        }
        return new DiskBudget(options.budgetBytes(), options.budgetPercent(), options.lowWaterPercent(),
                segmentSize + SPLITTER_PASS_BYTES, minimum, p);
    }

    /**
     * Free space of the store's filesystem now. statvfs of the path itself
     * (File.getUsableSpace), not Files.getFileStore: that looks the path up in the mount table,
     * which fails in a chroot or container ("Mount point not found"; found by the .deb test in
     * its arm64 root). A path that has gone (0) makes the budget as small as the store can work.
     */
    private long free() {
        return statPath == null ? 0 : statPath.toFile().getUsableSpace();
    }

    /** The budget for {@code usage} bytes held by the store and {@code free} bytes free beside it. */
    private long evaluate(long usage, long free) {
        if (statPath == null) {
            return byteBudget;
        }
        long space = usage + free;
        long bytes = Math.min(byteBudget, space);
        if (percent > 0) {
            bytes = Math.min(bytes, space / 100 * percent);
        }
        if (bytes < minimumBytes) {
            if (!raised) {
                org.tinylog.Logger.warn("disk budget {} of the space the store can have ({} bytes used, {} free) is only {} "
                        + "bytes; using the least it can work with, {} bytes",
                        percent > 0 ? percent + "%" : byteBudget + " bytes", usage, free, bytes, minimumBytes);
            }
            raised = true;
            return minimumBytes;
        }
        raised = false;
        return bytes;
    }

    /**
     * Bytes the data folder takes, each file and folder rounded up to 4 KiB (the store's layout
     * is at most 3 levels deep), leaving out what lies under {@code skip} (null: nothing). The
     * compactor's periodic measure, on a thread of its own.
     */
    static long folderBytes(Path dataDir, Path skip) throws IOException {
        long[] total = new long[1];
        try (var walk = Files.walk(dataDir, 3)) {
            walk.forEach(f -> {
                if (skip != null && f.startsWith(skip)) {
                    return;
                }
                try {
                    long size = Files.isDirectory(f) ? 4096 : Files.size(f);
                    total[0] += (size + 4095) / 4096 * 4096;
                } catch (IOException gone) {
                    // removed while we walked
                }
            });
        }
        return total[0];
    }

    /** The budget as last evaluated. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** How far below the budget appends are refused. */
    public long headroomBytes() {
        return headroomBytes;
    }

    public long lowWaterBytes() {
        // Of the point where appends are refused, not of the budget: with 64 MiB segments and a
        // small budget the two differ by much of the margin reclaiming needs.
        return Math.max(0, budgetBytes - headroomBytes) / 100 * lowWaterPercent;
    }

    /** The usage under which appends are accepted: the budget less the headroom. */
    public long resumeBelowBytes() {
        return Math.max(0, budgetBytes - headroomBytes);
    }

    public long usageBytes() {
        return usageBytes;
    }

    /** Usage that is already bound to come: usage + the log bytes the splitter will still copy. */
    public long projectedBytes() {
        return usageBytes + unsplitBytes;
    }

    /** Whether usage has been measured yet (the first walk runs in the background after start). */
    public boolean measured() {
        return measured;
    }

    /**
     * Whether appends are refused: as of the last measurement, or because what has been appended
     * since would take usage past the refusal point. Each appended byte is bound to take two: one
     * in the log (counted when its segment is, but one segment ahead is all the headroom allows
     * for), one in its stream file. The measurement is made between the splitter's passes; a
     * writer faster than those (a tmpfs, a burst into a fast card) must not run past the budget
     * in between.
     */
    public boolean refusing() {
        if (refusing) {
            return true;
        }
        if (!measured) {
            return false;
        }
        long appended = Math.max(0, logPosition.getAsLong() - logPositionAtMeasure);
        return usageBytes + unsplitBytes + 2 * appended + headroomBytes > budgetBytes;
    }

    /** The log's committed position, so that appends since the last measurement count at once. */
    void watchLog(java.util.function.LongSupplier committedPosition) {
        this.logPosition = committedPosition;
    }

    public boolean overLowWater() {
        return measured && projectedBytes() > lowWaterBytes();
    }

    /**
     * Usage as just measured and the log bytes not split yet (tests); re-evaluates the
     * budget against the filesystem's free space. Returns whether appends are now refused;
     * {@link #refusing()} changed if the return differs from what it was before the call.
     */
    boolean update(long usage, long unsplit) {
        return update(usage, unsplit, logPosition.getAsLong());
    }

    /**
     * As {@link #update(long, long)}, with the log's committed position read before usage and
     * unsplit bytes were: what is appended while they are read then counts twice, not never.
     */
    boolean update(long usage, long unsplit, long logPositionBefore) {
        logPositionAtMeasure = logPositionBefore;
        long budget = evaluate(usage, free());
        budgetBytes = budget;
        usageBytes = usage;
        unsplitBytes = unsplit;
        measured = true;
        boolean refuse = usage + unsplit + headroomBytes > budget;
        refusing = refuse;
        return refuse;
    }

    public String describe() {
        return "used=" + usageBytes + " unsplit=" + unsplitBytes + " budget=" + budgetBytes + " resume_below="
                + resumeBelowBytes();
    }
}
