package io.ringstore.log;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.tinylog.Logger;

/**
 * The main log: a chain of fixed-size memory-mapped segment files. One writer thread appends and
 * forces; any number of reader threads read records below the committed position.
 *
 * <p>Three positions matter, each a global log position (segment base + offset):
 * <ul>
 *   <li>write position: where the writer puts the next frame (writer thread only);
 *   <li>durable position: everything before it has been forced (written by the writer thread,
 *       volatile: retention counts limits from it, see {@link #durablePosition()});
 *   <li>committed position: everything before it is acknowledged and visible to readers
 *       (volatile). In the default durability mode it never passes the durable position; in the
 *       replica ack modes it never passes what the standbys hold (the writer's ack releaser
 *       commits, see {@code writer.AckReleaser}).
 *   <li>published position: everything before it is written whole and will not be taken back by
 *       the writer (no failed force can discard it), so log shipping may send it to a standby
 *       before it is committed (volatile; never below the committed position). In the replica
 *       ack modes commit waits for the standbys, so shipping must read up to this position, not
 *       the committed one: see {@link #readPublished} and {@link #awaitPublishedBeyond}.
 * </ul>
 *
 * <p>Torn pages: batches are packed, so the last acknowledged batch usually shares its last
 * 4 KiB page with the next batch's first frames, and the next force writes that page again with
 * the acknowledged bytes unchanged. A card that keeps each 512-byte sector whole (old or new)
 * cannot damage them that way; this is what the power-cut tests model. A card that garbles a
 * sector it was writing when the power went can: if a later record survives, its
 * {@code durable_before} proves the bytes had been forced and the store refuses to open
 * ({@link CorruptLogException} naming file and offset; {@code --repair} cuts there); if none
 * does, recovery cannot tell the damage from a torn tail and cuts it, losing the end of an
 * acknowledged batch. Padding each batch to a page would rule this out for up to 4 KiB more
 * written per force, which on an SD card is the wear we are built to avoid; not done.
 *
 * <p>Exception policy: I/O failures are checked {@link IOException}s for the writer to turn into
 * typed append errors; damage that recovery cannot explain as a torn tail is a
 * {@link CorruptLogException} naming file and offset.
 */
public final class MainLog implements AutoCloseable {
    private final Path dir;
    private final StorageIo io;
    private final long segmentSize;
    private final ConcurrentSkipListMap<Long, Segment> segments;

    // Writer-thread state.
    private Segment current;
    private long writeOffset;
    private long dirtyFrom;
    private long dirtyTo;
    private volatile long durablePosition;
    private boolean sealed;

    private volatile long committedPosition;
    private volatile long publishedPosition;
    /**
     * Everything before it is in the mapping, complete, and may not be forced yet: published by
     * the writer after each batch is copied, before the force, so that log shipping can send a
     * batch to the standbys while this board forces it (replica modes acknowledge only once the
     * standbys hold it). It moves back only when a failed force undoes frames
     * ({@link #discardFrom}); a shipper that sees that drops its standby, which then finds out
     * where the logs part on its next hello.
     */
    private volatile long writtenPosition;
    /**
     * Who keeps log segments from reclaim, each from its own floor: replication (a standby still
     * reads them, see {@link #setReclaimFloor}) and connectors such as the NATS forwarder (see
     * {@link #hold}). Reclaim keeps everything from the lowest floor on.
     */
    private final java.util.concurrent.CopyOnWriteArrayList<ReclaimHold> holds = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Replication's hold, replaced by each {@link #setReclaimFloor}; null until then. */
    private ReclaimHold replicationHold;

    /**
     * The spare: one reclaimed segment kept (renamed to {@link #SPARE_NAME}) instead of deleted,
     * for the next roll to recycle ({@link Segment#recycle}). Made ready by reclaim (splitter
     * thread) once its name is durable, taken by a roll (writer thread) or dropped for the disk
     * budget: whoever moves it from ready owns the file.
     */
    private final java.util.concurrent.atomic.AtomicInteger spare = new java.util.concurrent.atomic.AtomicInteger(NO_SPARE);
    /** {@link #spare}: no spare file (reclaim may keep one: the name is free). */
    private static final int NO_SPARE = 0;
    /** {@link #spare}: the file is there and its name durable; a roll or the budget may take it. */
    private static final int SPARE_READY = 1;
    /**
     * {@link #spare}: a roll took it and is renaming it away. Reclaim must not keep another under
     * the same name meanwhile: the rename would replace this one, and the roll would then recycle
     * a file whose new name was never forced (found by PowerCutRegressionTest in CI: kept, forced,
     * forced, kept, recycled).
     */
    private static final int SPARE_TAKEN = 2;
    /** The spare's file name in the log folder (not a segment name: recovery never scans it). */
    public static final String SPARE_NAME = "spare-segment";
    private final Path spareFile;

    MainLog(Path dir, StorageIo io, long segmentSize, ConcurrentSkipListMap<Long, Segment> segments,
            Segment current, long writeOffset, boolean sealed) throws IOException {
        this.dir = dir;
        this.spareFile = dir.resolve(SPARE_NAME);
        // A spare left by the last run (a clean stop keeps it), or brought back by a cut during
        // a recycle or a drop (its name was durable; its header, whatever a cut left of it, is
        // rewritten before it is used): kept if it can be a segment of this size (the configured
        // size may have changed since), else deleted.
        if (Files.exists(spareFile)) {
            if (Files.size(spareFile) == segmentSize) {
                spare.set(SPARE_READY);
            } else {
                io.deleteIfExists(spareFile);
            }
        }
        this.sealed = sealed;
        this.io = io;
        this.segmentSize = segmentSize;
        this.segments = segments;
        this.current = current;
        this.writeOffset = writeOffset;
        this.dirtyFrom = writeOffset;
        this.dirtyTo = writeOffset;
        this.durablePosition = current.base() + writeOffset;
        this.committedPosition = durablePosition;
        this.publishedPosition = durablePosition;
        this.writtenPosition = durablePosition;
    }

    /**
     * Opens (or creates) the log in {@code dir}, scanning from {@code scanFrom} and handing every
     * record found to {@code onRecord}. {@code knownForced} is a position below which a checkpoint
     * proves everything had been forced (damage there is corruption, never a torn tail); 0 if none.
     */
    public static Opened open(Path dir, StorageIo io, long segmentSize, boolean repair, long scanFrom, long knownForced,
                              java.util.function.Consumer<LogRecord> onRecord) throws IOException {
        return LogRecovery.recover(dir, io, segmentSize, repair, scanFrom, knownForced, false, onRecord);
    }

    /**
     * As {@link #open}; {@code standby} makes the records' {@code durable_before} advisory (a
     * standby's log holds the primary's values, which say nothing about what this board forced;
     * see {@link LogRecovery}).
     */
    public static Opened open(Path dir, StorageIo io, long segmentSize, boolean repair, long scanFrom, long knownForced,
                              boolean standby, java.util.function.Consumer<LogRecord> onRecord) throws IOException {
        return LogRecovery.recover(dir, io, segmentSize, repair, scanFrom, knownForced, standby, onRecord);
    }

    /** An opened log and what recovery did. */
    public record Opened(MainLog log, RecoveryReport report) {}

    // ------------------------------------------------------------------ writer side

    public long writePosition() {
        return current.base() + writeOffset;
    }

    /**
     * Everything before it has been forced. Any thread may read it: retention decides what a
     * count limit keeps from the last forced version, never from one a failed force or a power
     * cut can still take back.
     */
    public long durablePosition() {
        return durablePosition;
    }

    public long segmentSize() {
        return segmentSize;
    }

    /** Largest body a single frame can have in a fresh segment. */
    public int maxBodyLength() {
        return (int) Math.min(Integer.MAX_VALUE,
                segmentSize - SegmentHeader.LENGTH - RecordFrame.SEAL_LENGTH - RecordFrame.HEADER_LENGTH - RecordFrame.ALIGNMENT);
    }

    /** Whether {@code bytes} of frames still fit in the current segment. */
    public boolean fits(long bytes) {
        return !sealed && writeOffset + bytes <= current.limitOffset();
    }

    /**
     * Moves the writer to a new segment: creates it (real blocks, crash-safe order), then seals
     * the current one and forces everything in it, so that any byte durable in the new segment
     * proves the old one complete (recovery relies on this).
     *
     * @throws io.ringstore.nativeio.NoSpaceException when there is no room for the new segment;
     *         the current segment is then left as it was
     */
    public void roll(long nowMillis) throws IOException {
        long nextBase = current.base() + current.size();
        Segment next = null;
        if (spare.compareAndSet(SPARE_READY, SPARE_TAKEN)) {
            try {
                next = Segment.recycle(io, dir, spareFile, nextBase, segmentSize, nowMillis);
            } catch (IOException | RuntimeException e) {
                // The spare is gone (Segment.recycle deleted what it renamed): a new file instead.
                Logger.warn("recycling the spare log segment failed, creating a new one: {}", e.toString());
            } finally {
                spare.set(NO_SPARE); // its name is free again (renamed away, or failed to be)
            }
        }
        boolean recycled = next != null;
        if (next == null) {
            next = Segment.create(io, dir, nextBase, segmentSize, nowMillis);
        }
        try {
            if (!sealed) {
                io.write(current.mapping(), writeOffset, SEAL_WORD);
                dirtyTo = Math.max(dirtyTo, writeOffset + RecordFrame.SEAL_LENGTH);
            }
            forceCurrent();
        } catch (IOException | RuntimeException e) {
            // The old segment stays current; the new, empty one is harmless (recovery removes
            // an empty segment that follows the tail) but we remove it now to keep things tidy.
            next.close();
            io.deleteIfExists(next.file());
            throw e;
        }
        segments.put(nextBase, next);
        // The sealed segment leaves our resident set; the splitter faults back what it reads.
        release(current);
        current = next;
        sealed = false;
        writeOffset = SegmentHeader.LENGTH;
        dirtyFrom = writeOffset;
        dirtyTo = writeOffset;
        durablePosition = current.base() + writeOffset;
        readAhead();
        rolls++;
        if (recycled) {
            rollsRecycled++;
        }
    }

    /** Rolls since open (the writer's), and how many of them reused the spare: status, benchmarks. */
    private volatile long rolls;
    private volatile long rollsRecycled;

    /** Segment rolls since this log was opened. */
    public long rolls() {
        return rolls;
    }

    /** Of {@link #rolls()}, those that recycled the spare instead of creating (allocating) a new file. */
    public long rollsRecycled() {
        return rollsRecycled;
    }

    private static final MemorySegment SEAL_WORD;
    static {
        byte[] seal = new byte[RecordFrame.SEAL_LENGTH];
        MemorySegment.ofArray(seal).set(SegmentHeader.INT, 0, RecordFrame.SEAL);
        SEAL_WORD = MemorySegment.ofArray(seal);
    }

    /**
     * Writes one frame at the write position whose body is {@code head[0, headLength)} followed by
     * {@code tail}: body and checksum first, then the length word, which makes the frame valid.
     * The caller has checked {@link #fits}.
     *
     * @return the position of the frame
     */
    public long append(byte[] head, int headLength, byte[] tail) throws IOException {
        long offset = writeOffset;
        int bodyLength = headLength + tail.length;
        MemorySegment mapping = current.mapping();
        io.write(mapping, offset + RecordFrame.BODY_OFFSET, head, 0, headLength);
        io.write(mapping, offset + RecordFrame.BODY_OFFSET + headLength, tail, 0, tail.length);
        crc.reset();
        crc.update(head, 0, headLength);
        crc.update(tail, 0, tail.length);
        frameHeader.set(SegmentHeader.INT, RecordFrame.CRC_OFFSET, (int) crc.getValue());
        io.write(mapping, offset + RecordFrame.CRC_OFFSET, frameHeaderBytes, RecordFrame.CRC_OFFSET, Integer.BYTES);
        frameHeader.set(SegmentHeader.INT, RecordFrame.LENGTH_OFFSET, bodyLength);
        io.write(mapping, offset + RecordFrame.LENGTH_OFFSET, frameHeaderBytes, 0, Integer.BYTES); // commit point
        writeOffset = offset + RecordFrame.frameLength(bodyLength);
        dirtyTo = Math.max(dirtyTo, writeOffset);
        return current.base() + offset;
    }

    private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    private final byte[] frameHeaderBytes = new byte[RecordFrame.HEADER_LENGTH];
    private final MemorySegment frameHeader = MemorySegment.ofArray(frameHeaderBytes);

    /** Forces every byte written since the last force; afterwards durable position = write position. */
    public void force() throws IOException {
        forceCurrent();
    }

    private void forceCurrent() throws IOException {
        if (dirtyTo > dirtyFrom) {
            io.force(current.mapping(), dirtyFrom, dirtyTo - dirtyFrom);
        }
        dirtyFrom = writeOffset;
        dirtyTo = writeOffset;
        durablePosition = current.base() + writeOffset;
        readAhead();
    }

    /**
     * How far ahead of the write position a recycled segment is kept read into the page cache.
     * Its blocks hold an earlier life, so a write fault on a page the cache no longer holds waits
     * for that page's read (one page per fault: the mapping is MADV_RANDOM); on a board whose page
     * cache is far smaller than the log retention keeps, the spare left it long ago. Measured
     * (bench, socket 8x32, one session): the log dropped from the page cache (--in-service cold)
     * 70k and 71k ev/s without this, 130k and 147k with it; still cached (warm) 117k and 134k
     * without it. A fresh (fallocated) segment needs none: unwritten blocks read as zeros.
     */
    private static final long READ_AHEAD_BYTES = 4L << 20;
    /**
     * Asked for in steps of at least this much: the advice runs on the writer thread and starts
     * the reads without waiting for them (8 MiB at a time took 0.06-2.6 ms here, p50 0.7 ms).
     */
    private static final long READ_AHEAD_STEP = 1L << 20;
    /** The segment {@link #readAheadTo} is about, whether it is recycled, and how far it was asked for. */
    private Segment readAheadSegment;
    private boolean readAheadWanted;
    private long readAheadTo;

    /**
     * Keeps a recycled current segment asked for {@link #READ_AHEAD_BYTES} ahead of the writer.
     * A page-cache hint only: it changes no byte, so it opens no crash window.
     */
    private void readAhead() {
        if (current != readAheadSegment) {
            readAheadSegment = current;
            readAheadWanted = current.mapping().isNative() && SegmentHeader.recycled(current.mapping());
            readAheadTo = writeOffset & -PAGE;
        }
        long want = Math.min(current.size(), writeOffset + READ_AHEAD_BYTES);
        if (!readAheadWanted || want <= readAheadTo) {
            return;
        }
        long to = Math.min(current.size(), Math.max(want, readAheadTo + READ_AHEAD_STEP) + PAGE - 1 & -PAGE);
        try {
            Posix.adviseWillNeed(current.mapping().asSlice(readAheadTo, to - readAheadTo));
        } catch (RuntimeException e) {
            readAheadWanted = false; // a hint only: without it the writer waits for each page's read
        }
        readAheadTo = to;
    }

    private static final long PAGE = 4096;

    /** Whether bytes were written since the last force. */
    public boolean hasUnforcedBytes() {
        return dirtyTo > dirtyFrom;
    }

    /**
     * Undoes frames written at or after {@code position} after a failed force: zeroes them in the
     * mapping so no stale frame can surface later, and rewinds the write position. Only frames in
     * the current segment can be undone; earlier ones were forced by a roll.
     */
    public void discardFrom(long position) {
        long offset = Math.max(position - current.base(), SegmentHeader.LENGTH);
        if (offset >= writeOffset) {
            return;
        }
        current.mapping().asSlice(offset, dirtyTo - offset).fill((byte) 0);
        writeOffset = offset;
        publishWritten();
        dirtyFrom = Math.min(dirtyFrom, offset);
        // dirtyTo stays: the zeroed range must reach the disk with the next force.
    }

    /**
     * Makes everything before {@code position} visible to readers, and wakes those waiting for it.
     * Also publishes it (see {@link #publish}): what is committed may be shipped. One thread
     * commits (the writer, or in the replica ack modes its ack releaser).
     */
    public void commit(long position) {
        if (position == committedPosition) {
            return;
        }
        if (position > publishedPosition) {
            publishedPosition = position;
        }
        committedPosition = position;
        signalProgress();
        if (waiters.get() > 0) {
            synchronized (commitSignal) {
                commitSignal.notifyAll();
            }
        }
    }

    private final Object commitSignal = new Object();
    private final java.util.concurrent.atomic.AtomicInteger waiters = new java.util.concurrent.atomic.AtomicInteger();
    /** Counts {@link #wakeCommitWaiters} calls; guarded by commitSignal. */
    private long wakeUps;

    /**
     * Waits until the committed position passes {@code position}, the timeout ends, or
     * {@link #wakeCommitWaiters} is called (for live subscriptions); returns the committed
     * position either way.
     */
    public long awaitCommittedBeyond(long position, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        if (committedPosition > position) {
            return committedPosition;
        }
        waiters.incrementAndGet();
        try {
            synchronized (commitSignal) {
                long wokenAt = wakeUps;
                while (committedPosition <= position && wakeUps == wokenAt) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    commitSignal.wait(left);
                }
            }
        } finally {
            waiters.decrementAndGet();
        }
        return committedPosition;
    }

    /**
     * Ends every {@link #awaitCommittedBeyond} under way now, as if its timeout had passed: a
     * subscription being closed checks its stop flag at once instead of after its wait (up to
     * 200 ms per unsubscribe before). Waiters not stopping simply wait again.
     */
    public void wakeCommitWaiters() {
        synchronized (commitSignal) {
            wakeUps++;
            commitSignal.notifyAll();
        }
    }

    /**
     * Writer thread, replica ack modes: everything before {@code position} is written whole and
     * will not be discarded (the batch's force, if its mode forces, succeeded), so it may be
     * shipped before it is committed. Wakes shippers waiting in {@link #awaitPublishedBeyond}.
     */
    public void publish(long position) {
        if (position <= publishedPosition) {
            return;
        }
        publishedPosition = position;
        if (waiters.get() > 0) {
            synchronized (commitSignal) {
                commitSignal.notifyAll();
            }
        }
    }

    /**
     * Publishes the write position as the written position (writer thread, after each batch is
     * in the mapping, before its force) and wakes the shippers waiting for it.
     */
    public void publishWritten() {
        long p = writePosition();
        if (p == writtenPosition) {
            return;
        }
        writtenPosition = p;
        signalProgress();
    }

    /** See {@link #publishWritten}: log shipping sends bytes up to here. Any thread. */
    public long writtenPosition() {
        return writtenPosition;
    }

    private final Object progressSignal = new Object();
    private final java.util.concurrent.atomic.AtomicInteger progressWaiters = new java.util.concurrent.atomic.AtomicInteger();

    private void signalProgress() {
        if (progressWaiters.get() > 0) {
            synchronized (progressSignal) {
                progressSignal.notifyAll();
            }
        }
    }

    /** Everything before it may be shipped to a standby (see the class comment); never below the committed position. */
    public long publishedPosition() {
        return publishedPosition;
    }

    /**
     * Waits until the published position passes {@code position} or the timeout ends (for log
     * shipping); returns the published position either way.
     */
    public long awaitPublishedBeyond(long position, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        if (publishedPosition > position) {
            return publishedPosition;
        }
        waiters.incrementAndGet();
        try {
            synchronized (commitSignal) {
                while (publishedPosition <= position) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    commitSignal.wait(left);
                }
            }
        } finally {
            waiters.decrementAndGet();
        }
        return publishedPosition;
    }

    /**
     * Waits until the written position differs from {@code written} or the committed position
     * from {@code committed}, or the timeout ends: a shipper sleeps here between batches.
     */
    public void awaitProgress(long written, long committed, long timeoutMillis) throws InterruptedException {
        if (writtenPosition != written || committedPosition != committed) {
            return;
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        progressWaiters.incrementAndGet();
        try {
            synchronized (progressSignal) {
                while (writtenPosition == written && committedPosition == committed) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    progressSignal.wait(left);
                }
            }
        } finally {
            progressWaiters.decrementAndGet();
        }
    }

    /** Where the writer's current segment ends (writer thread). */
    public long currentSegmentEnd() {
        return current.base() + current.size();
    }

    /**
     * A standby's append: copies frames shipped from the primary, byte for byte, to
     * {@code position} (which must be the write position; the caller rolls first when the
     * primary did), then checks them in place: each must be a sound record at its position, and
     * the last must end exactly at the end of the bytes. On a bad frame the bytes are zeroed, the
     * write position stays where it was, and a {@link CorruptLogException} says why: nothing
     * stored changes. Writer thread only.
     *
     * @return the records copied, in order
     */
    public List<LogRecord> appendShipped(long position, MemorySegment frames) throws IOException {
        if (position != writePosition()) {
            throw new IllegalArgumentException("shipped frames at " + position + " but the log ends at " + writePosition());
        }
        long offset = writeOffset;
        long length = frames.byteSize();
        if (sealed || offset + length > current.limitOffset()) {
            throw new CorruptLogException(current.file(), offset, "shipped frames do not fit the segment: bytes=" + length);
        }
        MemorySegment mapping = current.mapping();
        io.write(mapping, offset, frames);
        List<LogRecord> records = new ArrayList<>();
        long at = offset;
        String problem = null;
        while (at < offset + length) {
            FrameReader.Frame f = FrameReader.read(mapping, current.base(), at);
            if (f.kind() != FrameReader.Kind.RECORD || f.next() > offset + length) {
                problem = f.kind() == FrameReader.Kind.RECORD ? "frame runs past the shipped bytes"
                        : f.kind() == FrameReader.Kind.BAD ? f.problem() : "no frame (" + f.kind() + ")";
                break;
            }
            records.add(f.record());
            at = f.next();
        }
        if (problem != null) {
            mapping.asSlice(offset, length).fill((byte) 0);
            throw new CorruptLogException(current.file(), at, "shipped bytes refused: " + problem);
        }
        writeOffset = offset + length;
        dirtyTo = Math.max(dirtyTo, writeOffset);
        return records;
    }

    /**
     * Copies raw frames from {@code from} for a shipper: whole frames only, within one segment,
     * at most {@code maxBytes} (but at least one frame) and never past {@code limit} (the written
     * position). Skips a seal: when {@code from} is at one, the copy starts at the next
     * segment's first frame, and {@link RawFrames#position} says where. Any thread.
     *
     * @return null when nothing is there yet
     * @throws PositionReclaimedException when retention deleted the segment
     */
    public RawFrames copyFrames(long from, long limit, int maxBytes) {
        try {
            long oldest = oldestPosition();
            if (from < oldest) {
                throw new PositionReclaimedException(from, oldest);
            }
            long position = from;
            while (position < limit) {
                Map.Entry<Long, Segment> e = segments.floorEntry(position);
                Segment seg = e.getValue();
                MemorySegment m = seg.mapping();
                long start = Math.max(position - seg.base(), SegmentHeader.LENGTH);
                long at = start;
                long end = Math.min(limit - seg.base(), seg.limitOffset());
                boolean sealedHere = false;
                seg.enter();
                try {
                    while (at < end) {
                        int length = RecordFrame.lengthAt(m, at);
                        if (length == RecordFrame.SEAL) {
                            sealedHere = true;
                            break;
                        }
                        if (length <= 0) {
                            throw new CorruptLogException(seg.file(), at, "no frame below the written position");
                        }
                        long next = at + RecordFrame.frameLength(length);
                        if (at > start && next - start > maxBytes) {
                            break;
                        }
                        at = next;
                    }
                    if (at > start) {
                        byte[] bytes = m.asSlice(start, at - start).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                        return new RawFrames(seg.base() + start, bytes);
                    }
                } finally {
                    seg.exit();
                }
                if (!sealedHere && position - seg.base() < seg.limitOffset()) {
                    return null;
                }
                position = seg.base() + seg.size() + SegmentHeader.LENGTH;
            }
            return null;
        } catch (IllegalStateException | java.util.NoSuchElementException e) {
            throw new PositionReclaimedException(from, oldestPositionOrZero());
        }
    }

    /** Frames copied by {@link #copyFrames}: {@code bytes} belong at {@code position}. */
    public record RawFrames(long position, byte[] bytes) {
        public long end() {
            return position + bytes.length;
        }
    }

    /**
     * Cuts the log at {@code position} on a standby (writer thread): bytes it holds that the
     * primary never committed and no longer has (the primary's force failed, or it lost an
     * unforced tail in a power cut). Zeroes from there to the last non-zero byte (in a recycled
     * segment: to its last own frame, {@link FrameReader#endOfCut}), deletes later
     * segments, and forces, so no cut frame can surface again. The caller sets the bytes aside
     * first and has fed nothing past {@code position} to the stream table.
     */
    public void truncateTo(long position) throws IOException {
        Map.Entry<Long, Segment> e = segments.floorEntry(position);
        if (e == null || position < oldestPosition() || position > writePosition()) {
            throw new IllegalArgumentException("cannot cut the log at " + position + ": it holds "
                    + oldestPositionOrZero() + ".." + writePosition());
        }
        Segment seg = e.getValue();
        // Crash window: before the folder force below, a power cut can bring back a deleted later
        // segment, and before the segment's force the zeroed tail. Either way the cut is made
        // again: DivergentTail.completePending runs under a durable "pending cut" marker that the
        // next open finishes; StandbyApplier.cut cuts only above what the primary acknowledged,
        // and after a restart the standby's hello carries its tail's CRC, so the primary finds
        // the divergence again. After both forces the log ends at {@code position} on disk.
        boolean removed = false;
        for (Segment later : new ArrayList<>(segments.tailMap(seg.base(), false).values())) {
            segments.remove(later.base());
            later.close();
            io.deleteIfExists(later.file());
            removed = true;
        }
        long offset = Math.max(position - seg.base(), SegmentHeader.LENGTH);
        MemorySegment m = seg.mapping();
        long nonZeroEnd = FrameReader.endOfCut(m, seg.base(), offset);
        if (nonZeroEnd > offset) {
            m.asSlice(offset, nonZeroEnd - offset).fill((byte) 0);
        }
        // Everything kept is forced too: the cut must not leave unforced frames below it.
        io.force(m, SegmentHeader.LENGTH, Math.max(nonZeroEnd, offset) - SegmentHeader.LENGTH);
        if (removed) {
            io.forceDirectory(dir);
        }
        current = seg;
        sealed = false;
        writeOffset = offset;
        dirtyFrom = offset;
        dirtyTo = offset;
        durablePosition = seg.base() + offset;
        if (committedPosition > durablePosition) {
            committedPosition = durablePosition;
        }
        publishWritten();
    }

    /**
     * Segments from this base on are kept by reclaim: a standby still needs them. Replication's
     * hold: it binds every reclaim, the disk budget's too (replaces the previous one).
     */
    public synchronized void setReclaimFloor(java.util.function.LongSupplier floor) {
        if (replicationHold != null) {
            holds.remove(replicationHold);
        }
        replicationHold = new ReclaimHold("replication", floor, false, null);
        holds.add(replicationHold);
    }

    /**
     * A reason to keep log segments: every segment holding a position at or above
     * {@code floor} stays. A hold that {@code yieldsToBudget} binds retention's ordinary
     * reclaims but not those the disk budget forces ({@link #reclaim(long, long, long, long, boolean)}
     * with {@code budgetForced}); {@code overridden} is then told, once per such reclaim, which
     * positions above its floor went ({@code from} inclusive, {@code to} exclusive). {@code name}
     * says whose it is (for people reading a heap dump or a debugger).
     */
    public record ReclaimHold(String name, java.util.function.LongSupplier floor, boolean yieldsToBudget,
                              Overridden overridden) {}

    /** Told which positions the disk budget reclaimed above a yielding hold's floor. */
    @FunctionalInterface
    public interface Overridden {
        void reclaimed(long from, long to);
    }

    /** Adds a hold (see {@link ReclaimHold}); {@link #release} takes it away. */
    public ReclaimHold hold(String name, java.util.function.LongSupplier floor, boolean yieldsToBudget,
                            Overridden overridden) {
        ReclaimHold h = new ReclaimHold(name, floor, yieldsToBudget, overridden);
        holds.add(h);
        return h;
    }

    public void release(ReclaimHold hold) {
        holds.remove(hold);
    }

    /** The lowest floor of the holds that bind this reclaim. */
    private long floor(boolean budgetForced) {
        long floor = Long.MAX_VALUE;
        for (ReclaimHold h : holds) {
            if (!(budgetForced && h.yieldsToBudget())) {
                floor = Math.min(floor, h.floor().getAsLong());
            }
        }
        return floor;
    }

    /**
     * Counts the records in {@code [from, to)} ({@code from} a record's position, or 0 for the
     * oldest stored), reading only their length words: a connector's lag in events. Stops at
     * {@code to}, at the committed position, or after {@code max} records. Any thread; 0 when
     * the segments are reclaimed meanwhile.
     */
    public long countRecords(long from, long to, long max) {
        long limit = Math.min(to, committedPosition);
        long count = 0;
        try {
            long position = Math.max(from, oldestPosition());
            while (position < limit && count < max) {
                Map.Entry<Long, Segment> e = segments.floorEntry(position);
                if (e == null) {
                    return count;
                }
                Segment seg = e.getValue();
                MemorySegment m = seg.mapping();
                long at = Math.max(position - seg.base(), SegmentHeader.LENGTH);
                long end = Math.min(limit - seg.base(), seg.limitOffset());
                boolean sealedHere = false;
                seg.enter();
                try {
                    while (at < end && count < max) {
                        int length = RecordFrame.lengthAt(m, at);
                        if (length == RecordFrame.SEAL) {
                            sealedHere = true;
                            break;
                        }
                        if (length <= 0) {
                            return count;
                        }
                        at += RecordFrame.frameLength(length);
                        count++;
                    }
                } finally {
                    seg.exit();
                }
                if (!sealedHere && at < seg.limitOffset() && seg.base() + at >= limit) {
                    return count;
                }
                position = seg.base() + seg.size() + SegmentHeader.LENGTH;
            }
        } catch (IllegalStateException | java.util.NoSuchElementException e) {
            // Reclaimed (unmapped) while we counted.
        }
        return count;
    }

    // ------------------------------------------------------------------ reader side

    public long committedPosition() {
        return committedPosition;
    }

    /** Position of the first frame still stored. */
    public long oldestPosition() {
        return segments.firstKey() + SegmentHeader.LENGTH;
    }

    /** Records read by {@link #read}; {@code next} is where to continue. */
    public record ReadBatch(List<LogRecord> records, long next) {}

    /**
     * Reads up to {@code maxCount} records starting at {@code from} (a record's position, or any
     * position at or before {@link #oldestPosition()} for the beginning), never past the committed
     * position. Safe on any thread.
     *
     * @throws IllegalArgumentException when {@code from} is not the position of a record
     */
    public ReadBatch read(long from, int maxCount) {
        return read(from, maxCount, false);
    }

    /**
     * As {@link #read}, but up to the published position instead of the committed one: records
     * the writer will not take back but that may not be acknowledged yet. For log shipping only
     * (a standby must hold a record before the primary commits it in the replica ack modes);
     * never for anything a client sees.
     */
    public ReadBatch readPublished(long from, int maxCount) {
        return read(from, maxCount, true);
    }

    private ReadBatch read(long from, int maxCount, boolean published) {
        for (int attempt = 1; ; attempt++) {
            try {
                return readUnchecked(from, maxCount, published ? publishedPosition : committedPosition);
            } catch (IllegalStateException | java.util.NoSuchElementException e) {
                // The segment was reclaimed (unmapped) while we read it. A read from the
                // beginning (0) asked for whatever is oldest now, so it starts again there; a
                // read from a position asked for that position, which is gone.
                if (from == 0 && attempt < 8) {
                    continue;
                }
                throw new PositionReclaimedException(from, oldestPositionOrZero());
            }
        }
    }

    private long oldestPositionOrZero() {
        try {
            return oldestPosition();
        } catch (java.util.NoSuchElementException e) {
            return 0;
        }
    }

    private ReadBatch readUnchecked(long from, int maxCount, long limit) {
        List<LogRecord> out = new ArrayList<>(Math.min(maxCount, 1024));
        long oldest = oldestPosition();
        if (from > 0 && from < oldest) {
            throw new PositionReclaimedException(from, oldest);
        }
        long position = Math.max(from, oldest);
        while (out.size() < maxCount && position < limit) {
            Map.Entry<Long, Segment> e = segments.floorEntry(position);
            if (e == null) {
                // Reclaimed between the check above and here: the same answer as before it.
                throw new PositionReclaimedException(position, oldestPositionOrZero());
            }
            Segment seg = e.getValue();
            long offset = Math.max(position - seg.base(), SegmentHeader.LENGTH);
            FrameReader.Frame f;
            seg.enter();
            try {
                f = FrameReader.read(seg.mapping(), seg.base(), offset);
            } finally {
                seg.exit();
            }
            switch (f.kind()) {
                case RECORD -> {
                    out.add(f.record());
                    position = seg.base() + f.next();
                }
                case SEAL -> {
                    // Continue at the next segment's first frame slot, not at its header: after a
                    // roll whose appends then failed (their force or write failed), the committed
                    // position is exactly that slot, and nothing in the new segment is readable yet.
                    position = seg.base() + seg.size() + SegmentHeader.LENGTH;
                }
                case EMPTY, BAD -> {
                    if (position == from && out.isEmpty()) {
                        throw new IllegalArgumentException("no record starts at position=" + from);
                    }
                    throw new CorruptLogException(seg.file(), offset,
                            f.kind() == FrameReader.Kind.EMPTY ? "empty slot below committed position" : f.problem());
                }
            }
        }
        return new ReadBatch(out, position);
    }

    /**
     * The body of the record at {@code position} (its checksum checked), byte for byte what a
     * stream file stores: the splitter copies events with this rather than decoding and
     * encoding each one. Safe on any thread.
     *
     * @throws PositionReclaimedException when retention has deleted the segment
     * @throws CorruptLogException when no sound record is there
     */
    public byte[] readBodyAt(long position) {
        return readBody(position, committedPosition);
    }

    /**
     * As {@link #readBodyAt}, up to the published position (see {@link #readPublished}): for log
     * shipping, which sends each record's body byte for byte.
     */
    public byte[] readBodyPublished(long position) {
        return readBody(position, publishedPosition);
    }

    private byte[] readBody(long position, long limit) {
        return withRecord(position, limit, (seg, m, offset, length) -> {
            // Copied first and checked in the copy: what is returned is exactly what was checked.
            byte[] body = new byte[length];
            MemorySegment.copy(m, java.lang.foreign.ValueLayout.JAVA_BYTE, offset + RecordFrame.BODY_OFFSET, body, 0, length);
            if (RecordFrame.crc(body, 0, length) != RecordFrame.crcAt(m, offset)) {
                throw new CorruptLogException(seg.file(), offset, "checksum mismatch");
            }
            return body;
        });
    }

    /**
     * The body length of the committed record at {@code position} (unchecked beyond lying inside
     * its segment: {@link #copyFrameAt} checks the record). Safe on any thread.
     *
     * @throws PositionReclaimedException when retention has deleted the segment
     * @throws CorruptLogException when no record is there
     */
    public int bodyLengthAt(long position) {
        return withRecord(position, committedPosition, (seg, m, offset, length) -> length);
    }

    /**
     * Copies the committed record at {@code position} into {@code out} as a whole frame, byte for
     * byte the frame a stream file stores (length, checksum, body, zero padding to the frame
     * length), and moves {@code out}'s position past it; the checksum is checked in the copy, so
     * what goes out is exactly what was checked. The splitter builds its groups with this: no
     * body array per event, one copy and one checksum where reading the body and framing it again
     * took two of each. Safe on any thread.
     *
     * @param out a heap buffer with room for the frame ({@link RecordFrame#frameLength} of
     *            {@link #bodyLengthAt})
     * @throws PositionReclaimedException when retention has deleted the segment
     * @throws CorruptLogException when no sound record is there
     */
    public void copyFrameAt(long position, java.nio.ByteBuffer out) {
        withRecord(position, committedPosition, (seg, m, offset, length) -> {
            int at = out.position();
            int frame = (int) RecordFrame.frameLength(length);
            if (out.remaining() < frame) {
                throw new IllegalArgumentException("no room for a frame of " + frame + " bytes: " + out);
            }
            byte[] array = out.array();
            int base = out.arrayOffset() + at;
            MemorySegment.copy(m, java.lang.foreign.ValueLayout.JAVA_BYTE, offset, array, base,
                    RecordFrame.HEADER_LENGTH + length);
            java.util.Arrays.fill(array, base + RecordFrame.HEADER_LENGTH + length, base + frame, (byte) 0);
            // The length and checksum words as copied (little-endian, as the mapping holds them).
            java.nio.ByteBuffer copied = java.nio.ByteBuffer.wrap(array).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            if (RecordFrame.crc(array, base + RecordFrame.BODY_OFFSET, length)
                    != copied.getInt(base + RecordFrame.CRC_OFFSET)
                    || copied.getInt(base + RecordFrame.LENGTH_OFFSET) != length) {
                throw new CorruptLogException(seg.file(), offset, "checksum mismatch");
            }
            out.position(at + frame);
            return null;
        });
    }

    /** What is done with one record's frame while its segment is held mapped. */
    @FunctionalInterface
    private interface RecordRead<T> {
        T read(Segment seg, MemorySegment mapping, long offset, int bodyLength);
    }

    /**
     * Finds the record frame at {@code position} (below {@code limit}), checks that its length
     * word puts it inside its segment, and runs {@code read} on it while the segment cannot be
     * unmapped.
     */
    private <T> T withRecord(long position, long limit, RecordRead<T> read) {
        try {
            long oldest = oldestPosition();
            if (position < oldest) {
                throw new PositionReclaimedException(position, oldest);
            }
            if (position >= limit) {
                throw new IllegalArgumentException("position not committed: position=" + position + " limit=" + limit);
            }
            Map.Entry<Long, Segment> e = segments.floorEntry(position);
            Segment seg = e.getValue();
            MemorySegment m = seg.mapping();
            long offset = position - seg.base();
            seg.enter();
            try {
                int length = offset >= SegmentHeader.LENGTH && offset + RecordFrame.HEADER_LENGTH <= m.byteSize()
                        ? RecordFrame.lengthAt(m, offset) : 0;
                if (length <= 0 || offset + RecordFrame.HEADER_LENGTH + (long) length > m.byteSize()) {
                    throw new CorruptLogException(seg.file(), offset, "no record at position " + position);
                }
                return read.read(seg, m, offset, length);
            } finally {
                seg.exit();
            }
        } catch (IllegalStateException | java.util.NoSuchElementException e) {
            // The segment was reclaimed (unmapped) while we read it.
            throw new PositionReclaimedException(position, oldestPositionOrZero());
        }
    }

    /** Reads the one record at {@code position}. */
    public LogRecord readAt(long position) {
        ReadBatch b = read(position, 1);
        if (b.records().isEmpty() || b.records().getFirst().getPosition() != position) {
            throw new IllegalArgumentException("no record at position=" + position);
        }
        return b.records().getFirst();
    }

    /**
     * Deletes segments that end at or before {@code safePosition} (fully split, and covered by
     * the stream-table checkpoint) and that retention no longer wants: sealed more than
     * {@code retainMillis} ago, or beyond the newest {@code retainBytes} of the log. Oldest first;
     * never the segment being written. Called by the splitter thread only.
     *
     * @return the segments deleted
     */
    public List<Path> reclaim(long safePosition, long retainMillis, long retainBytes, long nowMillis) throws IOException {
        return reclaim(safePosition, retainMillis, retainBytes, nowMillis, false);
    }

    /**
     * As {@link #reclaim(long, long, long, long)}; {@code budgetForced}: the disk budget needs the
     * room, so holds that yield to it (connectors) do not bind, and each is told what went above
     * its floor. Replication's hold binds either way.
     */
    public List<Path> reclaim(long safePosition, long retainMillis, long retainBytes, long nowMillis,
                              boolean budgetForced) throws IOException {
        List<Path> deleted = new ArrayList<>();
        boolean spared = false;
        if (budgetForced) {
            dropSpare();
        }
        // A connected standby (or one gone for less than its hold time) still reads from its
        // durable position: those segments stay, whatever retention wants. A connector's hold
        // (the forwarder's checkpoint) binds too, unless the disk budget forces the reclaim.
        safePosition = Math.min(safePosition, floor(budgetForced));
        long overriddenFrom = oldestPositionOrZero();
        long overriddenTo = -1;
        while (segments.size() > 1) {
            Map.Entry<Long, Segment> oldest = segments.firstEntry();
            Segment seg = oldest.getValue();
            Map.Entry<Long, Segment> next = segments.higherEntry(seg.base());
            if (next == null || seg.base() + seg.size() > safePosition) {
                break;
            }
            long sealedAt = SegmentHeader.check(next.getValue().mapping()).createdMillis();
            long newerBytes = segments.lastKey() + segmentSize - next.getKey();
            boolean old = nowMillis - sealedAt >= retainMillis;
            boolean beyondBytes = newerBytes >= retainBytes;
            if (!old && !beyondBytes) {
                break;
            }
            if (budgetForced) {
                overriddenTo = next.getKey() + SegmentHeader.LENGTH;
            }
            // Readers find segments through the map: take it out first, then retire it (a reader
            // that found it before gets IllegalStateException when it enters, turned into
            // "position reclaimed"; one inside unmaps it as it leaves: see Segment).
            segments.remove(seg.base());
            boolean unmapped = seg.retire();
            // Crash window: the name goes now; the blocks go when the last reader still inside
            // leaves the mapping (a read later at most), so nothing on disk waits for readers.
            // Until the folder force below, a power cut can bring the name back, alone or with
            // others deleted in this pass (a gap): everything in them is split and checkpointed,
            // and LogRecovery removes them again (its "reclaimed log segment a power cut brought
            // back"). After the force they are gone for good.
            // Kept as the spare instead when there is none, the budget does not need the room,
            // and nobody is still reading it (the next roll writes it through a new mapping).
            // The same crash window: the rename may revert to the old name (removed as above)
            // until the folder force; the spare holds only split, checkpointed history. The
            // writer may take it only after that force (below).
            if (unmapped && !budgetForced && seg.size() == segmentSize && spare.get() == NO_SPARE && !spared) {
                try {
                    io.rename(seg.file(), spareFile);
                    spared = true;
                } catch (IOException e) {
                    // Out of the map already: thrown on, the file would stay under its segment
                    // name, known to no map, its room held until the next start's recovery
                    // removed it. Deleted instead. Crash window as for any delete here: before
                    // the folder force below a cut may bring the name back (split, checkpointed
                    // history, which LogRecovery removes again); after it the file is gone.
                    Logger.warn("keeping a reclaimed log segment as the spare failed, deleting it instead: "
                            + "file={} error={}", seg.file().getFileName(), e.toString());
                    io.deleteIfExists(seg.file());
                }
            } else {
                io.deleteIfExists(seg.file());
            }
            deleted.add(seg.file());
        }
        if (!deleted.isEmpty()) {
            io.forceDirectory(dir);
        }
        if (spared) {
            // Offered to the writer only now that the spare's name is durable. Offered before, a
            // roll could recycle it at once and a power cut then revert both renames: the file
            // back under its old segment name with the new segment's header, which recovery must
            // take for damage (found by the power-cut test, life seed 2287913960353305344).
            spare.set(SPARE_READY);
        }
        if (overriddenTo > 0) {
            // Once per reclaim: each yielding hold learns the positions that went above its floor.
            for (ReclaimHold h : holds) {
                long hf = h.yieldsToBudget() ? h.floor().getAsLong() : Long.MAX_VALUE;
                if (hf < overriddenTo && h.overridden() != null) {
                    h.overridden().reclaimed(Math.max(overriddenFrom, hf), overriddenTo);
                }
            }
        }
        return deleted;
    }

    /**
     * Lets go of the pages of whole segments that end at or before {@code position} (the
     * splitter has read them): they leave this process's resident set, so RSS tracks what is
     * being worked on rather than every segment ever touched. Readers fault pages back in from
     * the page cache when they need them.
     */
    public void releaseBefore(long position) {
        for (Segment seg : segments.tailMap(releasedBefore, true).headMap(position, true).values()) {
            if (seg.base() + seg.size() <= position && seg != current) {
                release(seg);
                releasedBefore = seg.base() + seg.size();
            }
        }
    }

    private static void release(Segment seg) {
        try {
            seg.enter();
            try {
                Posix.adviseDontNeed(seg.mapping());
            } finally {
                seg.exit();
            }
        } catch (RuntimeException e) {
            // Closed by retention meanwhile: nothing to release.
        }
    }

    /** Segments before this were released by {@link #releaseBefore} (splitter thread only). */
    private long releasedBefore;

    /**
     * Deletes the spare segment (the disk budget wants the room back first); whether there was
     * one. Crash window: until the folder is forced the name can come back; the next open keeps
     * it as a spare again (it is a whole segment's size), and the budget drops it again.
     */
    public boolean dropSpare() throws IOException {
        if (!spare.compareAndSet(SPARE_READY, NO_SPARE)) {
            return false;
        }
        io.deleteIfExists(spareFile);
        io.forceDirectory(dir);
        return true;
    }

    public List<Path> segmentFiles() {
        return segments.values().stream().map(Segment::file).toList();
    }

    @Override
    public void close() {
        for (Segment s : segments.values()) {
            try {
                s.close();
            } catch (RuntimeException e) {
                Logger.warn("closing segment failed file={} error={}", s.file(), e.toString());
            }
        }
        segments.clear();
    }
}
