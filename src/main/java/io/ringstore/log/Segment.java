package io.ringstore.log;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One mapped segment file of the main log: where it lives, its base position and its bytes.
 *
 * <p>Readers on other threads {@link #enter} before they touch the mapping and {@link #exit}
 * after; {@link #close} (retention's reclaim, a standby's cut, the store's close) retires the
 * segment, and its mapping is unmapped by whoever leaves it last. Never under a reader: closing a
 * shared arena while another thread reads it can leave that thread's interrupt flag set (JDK 25,
 * a bare program: 26 of 2,000 racing closes; the flag stays set after the read), and an
 * interrupted thread's next FileChannel call fails and closes that channel. Tests saw it as a test thread interrupted
 * from nowhere (PowerCutPropertyTest: ClosedByInterruptException opening a store); in the daemon
 * it hit reader and subscription threads reading the log while the splitter reclaimed.
 */
public final class Segment implements AutoCloseable {
    /** Set in {@link #state} once the segment is retired; the low bits count readers inside. */
    private static final long RETIRED = 1L << 62;

    private final Path file;
    private final long base;
    private final long size;
    private final Arena arena;
    private final MemorySegment mapping;
    private final AtomicLong state = new AtomicLong();

    private Segment(Path file, long base, long size, Arena arena, MemorySegment mapping) {
        this.file = file;
        this.base = base;
        this.size = size;
        this.arena = arena;
        this.mapping = mapping;
    }

    public static String fileName(long base) {
        return String.format("%020d.seg", base);
    }

    /** Parses a segment file name back to its base, or -1 when it is not one. */
    public static long baseOf(Path file) {
        String name = file.getFileName().toString();
        if (!name.endsWith(".seg") || name.length() != 24) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Creates a segment in the crash-safe order: temp file, real blocks, header, force, rename,
     * force folder. A crash before the rename leaves only a {@code .tmp} file, which the next open
     * deletes; after it, a complete empty segment.
     */
    static Segment create(StorageIo io, Path dir, long base, long size, long nowMillis) throws IOException {
        Path finalFile = dir.resolve(fileName(base));
        Path temp = dir.resolve(fileName(base) + ".tmp");
        Arena arena = Arena.ofShared();
        try {
            // Inside the try, so a failed allocation deletes the temp file below: a fallocate that
            // runs out of space on ext4 keeps the blocks it got (a zero-fill keeps what it wrote),
            // and a temp file left behind would hold the filesystem's last free blocks until the
            // next start, starving everything else on the board.
            io.allocate(temp, size);
            return install(io, dir, temp, finalFile, base, size, nowMillis, false, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            io.deleteIfExists(temp);
            throw e;
        }
    }

    /**
     * Makes a segment out of a spare file (a reclaimed segment of the same size, see
     * {@code MainLog}), in the same crash-safe order as {@link #create}: the spare is renamed to
     * the temp name, given this segment's header (marked recycled) and forced, then renamed into
     * place and the folder forced. Its blocks are already written, so the forces that follow
     * convert no preallocated extents: on ext4 a force into a new, fallocated file also writes
     * the inode's extent tree, one more I/O per force, which an SD card's few IOPS feel.
     * Crash before the first rename: the spare stays a spare. Before the second: a {@code .tmp}
     * file, deleted by the next open (the spare is lost, nothing else). After it: a complete
     * empty segment whose bytes past the header are the earlier life's (see {@link SegmentHeader}).
     */
    static Segment recycle(StorageIo io, Path dir, Path spare, long base, long size, long nowMillis) throws IOException {
        Path finalFile = dir.resolve(fileName(base));
        Path temp = dir.resolve(fileName(base) + ".tmp");
        // Crash window: before this rename the spare is durable under its own name (reclaim forced
        // the folder before offering it). After it, until install's folder force, a cut leaves the
        // spare name (its header ignored) or the temp name (deleted at open); after install's
        // rename and force, a complete empty recycled segment.
        io.rename(spare, temp);
        Arena arena = Arena.ofShared();
        try {
            return install(io, dir, temp, finalFile, base, size, nowMillis, true, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            io.deleteIfExists(temp);
            throw e;
        }
    }

    /** The steps {@link #create} and {@link #recycle} share: header, force, rename, force folder. */
    private static Segment install(StorageIo io, Path dir, Path temp, Path finalFile, long base, long size,
                                   long nowMillis, boolean recycled, Arena arena) throws IOException {
        MemorySegment mapping = io.map(temp, size, arena);
        io.write(mapping, 0, MemorySegment.ofArray(SegmentHeader.encode(base, size, nowMillis, recycled)));
        io.force(mapping, 0, SegmentHeader.LENGTH);
        io.rename(temp, finalFile);
        io.forceDirectory(dir);
        return new Segment(finalFile, base, size, arena, mapping);
    }

    /** Maps an existing segment; the caller checks its header. */
    static Segment open(StorageIo io, Path file, long size) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return new Segment(file, baseOf(file), size, arena, io.map(file, size, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public long base() {
        return base;
    }

    public long size() {
        return size;
    }

    /** Position one past the last byte a frame may occupy (the seal word must still fit). */
    public long limitOffset() {
        return size - RecordFrame.SEAL_LENGTH;
    }

    public MemorySegment mapping() {
        return mapping;
    }

    /**
     * A reader enters before touching the mapping from any thread but the writer's; it must
     * {@link #exit} after (in a finally).
     *
     * @throws IllegalStateException when the segment is retired (reclaimed): the same exception
     *         a read of an unmapped segment gets, which the log's readers turn into "position
     *         reclaimed"
     */
    public void enter() {
        while (true) {
            long s = state.get();
            if ((s & RETIRED) != 0) {
                throw new IllegalStateException("segment reclaimed: " + file);
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** Leaves the mapping; the last reader out of a retired segment unmaps it. */
    public void exit() {
        if (state.decrementAndGet() == RETIRED) {
            arena.close();
        }
    }

    /** Retires the segment: unmapped now, or by the last reader inside it when it leaves. Idempotent. */
    @Override
    public void close() {
        retire();
    }

    /**
     * As {@link #close}; returns whether this call unmapped it (nobody was inside), so that its
     * file may be written through a new mapping at once without a reader of the old one seeing it.
     */
    boolean retire() {
        while (true) {
            long s = state.get();
            if ((s & RETIRED) != 0) {
                return false; // retired already
            }
            if (state.compareAndSet(s, s | RETIRED)) {
                if (s == 0) {
                    arena.close(); // nobody inside: unmapped now
                    return true;
                }
                return false;
            }
        }
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
