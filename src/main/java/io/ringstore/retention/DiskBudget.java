package io.ringstore.retention;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The store's disk budget and where usage stands against it. Usage is measured by the
 * compactor (see {@link StreamCompactor}); appends are refused with STORAGE_FULL while
 * {@code usage + headroom > budget}, the headroom being one log segment (the next roll) and one
 * splitter pass ({@link #SPLITTER_PASS_BYTES}): those are the steps by which usage grows between
 * two measurements, so refusing that much early keeps the budget a real ceiling.
 */
public final class DiskBudget {
    /**
     * What the splitter may copy into stream files in one pass before the log segments holding
     * those events can go (its pass bound, 4 MiB): for that moment the bytes exist twice.
     */
    static final long SPLITTER_PASS_BYTES = 4L << 20;

    private final long budgetBytes;
    private final long lowWaterBytes;
    private final long headroomBytes;
    private volatile long usageBytes;
    private volatile boolean refusing;

    /**
     * @param headroomBytes usage may grow by this much at once (a log segment)
     */
    public DiskBudget(long budgetBytes, int lowWaterPercent, long headroomBytes) {
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("disk budget must be > 0: " + budgetBytes);
        }
        this.budgetBytes = budgetBytes;
        // Of the point where appends are refused, not of the budget: with 64 MiB segments and a
        // small budget the two differ by much of the margin reclaiming needs.
        this.lowWaterBytes = Math.max(0, budgetBytes - headroomBytes) * lowWaterPercent / 100;
        this.headroomBytes = headroomBytes;
    }

    /**
     * The budget for a store in {@code dataDir}: the smaller of the byte and the percentage
     * budget. A percentage is of the space the store can have: what its folder holds now plus
     * what the filesystem has free, measured at start. On a Pi the store usually shares the card
     * with the system, so a percentage of the card's size could be more than is free; this way
     * the rest of the free space is always left to the system. A percentage that comes to less
     * than the store needs to work is raised to that (with a warning): the card is nearly full,
     * and the log's own free-space check on each roll still guards it.
     */
    public static DiskBudget of(RetentionOptions options, Path dataDir, long segmentSize) throws IOException {
        long minimum = 2 * (segmentSize + SPLITTER_PASS_BYTES) + 1;
        long bytes = options.budgetBytes() > 0 ? options.budgetBytes() : Long.MAX_VALUE;
        if (options.budgetBytes() > 0 && bytes < minimum) {
            throw new IllegalArgumentException("disk budget " + bytes + " bytes leaves no room: it must be more than "
                    + "two log segments and 8 MiB (" + (minimum - 1) + " bytes)");
        }
        if (options.budgetPercent() > 0) {
            Path p = dataDir;
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            // statvfs of the path itself (File.getUsableSpace), not Files.getFileStore: that looks
            // the path up in the mount table, which fails in a chroot or container ("Mount point
            // not found"; found by the .deb test in its arm64 root).
            long free = (p == null ? dataDir.toAbsolutePath().getRoot() : p).toFile().getUsableSpace();
            long own = Files.isDirectory(dataDir) ? folderBytes(dataDir, null) : 0;
            long share = (own + free) / 100 * options.budgetPercent();
            if (share < minimum) {
                org.tinylog.Logger.warn("disk budget {}% of the space the store can have ({} bytes held, {} free) is only "
                        + "{} bytes; using the least it can work with, {} bytes", options.budgetPercent(), own, free, share,
                        minimum);
                share = minimum;
            }
            bytes = Math.min(bytes, share);
        }
        return new DiskBudget(bytes, options.lowWaterPercent(), segmentSize + SPLITTER_PASS_BYTES);
    }

    /**
     * Bytes the data folder takes, each file and folder rounded up to 4 KiB (the store's layout
     * is at most 3 levels deep), leaving out what lies under {@code skip} (null: nothing). The
     * one walk for the budget at start and the compactor's periodic measure.
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

    public long budgetBytes() {
        return budgetBytes;
    }

    /** How far below the budget appends are refused. */
    public long headroomBytes() {
        return headroomBytes;
    }

    public long lowWaterBytes() {
        return lowWaterBytes;
    }

    public long usageBytes() {
        return usageBytes;
    }

    public boolean refusing() {
        return refusing;
    }

    public boolean overLowWater() {
        return usageBytes > lowWaterBytes;
    }

    /** Compactor: usage as just measured; returns whether appends are now refused. */
    boolean update(long usage) {
        usageBytes = usage;
        boolean refuse = usage + headroomBytes > budgetBytes;
        if (refuse != refusing) {
            refusing = refuse;
            if (refuse) {
                org.tinylog.Logger.error("storage full: over the disk budget, appends are refused until retention frees space ({})",
                        describe());
            } else {
                org.tinylog.Logger.info("disk budget: back under, appends resume ({})", describe());
            }
        }
        return refuse;
    }

    public String describe() {
        return "used=" + usageBytes + " budget=" + budgetBytes + " low_water=" + lowWaterBytes;
    }
}
