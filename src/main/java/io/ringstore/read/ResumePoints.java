package io.ringstore.read;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Where in its stream file each recent read of a stream stopped, so that the next page of a
 * paged read starts there instead of scanning the file from its header again (which made reading
 * a 100,000-event stream in pages of 1,000 read 5 million frames: issue 19).
 *
 * <p>A point is a hint, never trusted: the reader checks that the file is the same one (its
 * file key: device and inode, as {@code stat} gives them; retention's rewrites rename a new file
 * over the old) and that the frame found at the offset is sound (CRC32C), of this stream, and
 * the very record the point names (version and log position: positions are unique in the log).
 * Anything else and it reads from the header as before. The splitter only appends to a file in
 * place, and its cuts (a torn or failed group) are re-split with the same bytes from the same
 * offset, so a point that passes the check names the record it says.
 *
 * <p>Direct-mapped, fixed size ({@link #SLOTS} slots, about 64 bytes each): a stream's point
 * evicts whatever other stream hashed to its slot. Lock-free; a lost race loses a hint, never a
 * correct answer.
 */
final class ResumePoints {
    static final int SLOTS = 1024;

    /**
     * The record of version {@code version} (log position {@code position}) of {@code stream}
     * is the frame at {@code offset} of the file with key {@code fileKey}.
     */
    record Point(String stream, Object fileKey, long version, long position, long offset) {}

    private final AtomicReferenceArray<Point> slots = new AtomicReferenceArray<>(SLOTS);

    /** The point for {@code stream} in the file with {@code fileKey} at {@code version}, or null. */
    Point find(String stream, Object fileKey, long version) {
        Point p = slots.get(slot(stream));
        return p != null && p.version == version && p.stream.equals(stream) && p.fileKey.equals(fileKey) ? p : null;
    }

    void remember(Point p) {
        slots.set(slot(p.stream), p);
    }

    private static int slot(String stream) {
        int h = stream.hashCode();
        return (h ^ (h >>> 16)) & (SLOTS - 1);
    }
}
