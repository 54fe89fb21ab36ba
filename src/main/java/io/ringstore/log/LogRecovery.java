package io.ringstore.log;

import io.ringstore.log.proto.LogRecord;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;
import org.tinylog.Logger;

/**
 * Opens the main log after a clean stop or a crash: checks segment headers, scans frames from a
 * start position (a checkpoint's, so start-up time grows with the unchecked tail, not with the
 * data stored), cuts a torn tail and refuses to cut damage to acknowledged history.
 *
 * <p>Telling the two apart: a record carries {@code durable_before}, the position up to which the
 * log had been forced when it was written. If the scan stops at position X (a zero length word or
 * a bad frame) and some valid record later in the log has {@code durable_before > X}, the bytes
 * at X had been forced and acknowledged: that is corruption. Otherwise everything from X on was
 * never forced, hence never acknowledged in the default mode, and is cut.
 */
final class LogRecovery {
    private LogRecovery() {}

    static MainLog.Opened recover(Path dir, StorageIo io, long segmentSize, boolean repair, long scanFrom, long knownForced,
                                  boolean durableBeforeAdvisory, Consumer<LogRecord> onRecord) throws IOException {
        long started = System.nanoTime();
        io.createDirectories(dir);
        removeTempFiles(dir, io);
        List<Path> files = segmentFiles(dir);

        ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
        List<Path> setAside = new ArrayList<>();
        List<Path> removedEmpty = new ArrayList<>();
        boolean ok = false;
        try {
            if (files.isEmpty()) {
                // Crash window: none. A fresh data folder: the first segment starts at position 0.
                Segment first = Segment.create(io, dir, 0, segmentSize, System.currentTimeMillis());
                segments.put(0L, first);
                MainLog log = new MainLog(dir, io, segmentSize, segments, first, SegmentHeader.LENGTH, false);
                ok = true;
                return new MainLog.Opened(log, new RecoveryReport(SegmentHeader.LENGTH, false, 1, 0, 0,
                        SegmentHeader.LENGTH, null, -1, 0, setAside, removedEmpty, millisSince(started)));
            }
            // Crash window: a killed run (SIGKILL, OOM, the watchdog) can leave a segment renamed
            // into place whose folder entry was never forced (it died between the rename and the
            // folder's force). Before this line it exists for us, in the page cache, but a power
            // cut would take it away with everything appended to it since; after it, every
            // segment name recovery sees is durable.
            io.forceDirectory(dir);
            for (int f = 0; f < files.size(); f++) {
                Path file = files.get(f);
                long size = Files.size(file);
                Segment seg = Segment.open(io, file, size);
                segments.put(seg.base(), seg);
                SegmentHeader.Checked h = SegmentHeader.check(seg.mapping());
                String problem = !h.ok() ? h.problem()
                        : h.base() != seg.base() ? "base in header " + h.base() + " differs from file name"
                        : h.size() != size ? "size in header " + h.size() + " differs from file size " + size
                        : null;
                if (problem != null) {
                    // A segment is renamed into place only after its header was forced, so a bad
                    // header is damage, never a crash window.
                    if (!repair) {
                        throw new CorruptLogException(file, 0, problem);
                    }
                    if (f == 0) {
                        // Checked before anything is renamed: setting the first segment aside
                        // would leave no log, and the next start would begin a new, empty one.
                        throw new CorruptLogException(file, 0, problem
                                + " (the first segment: repair would leave no log; the log was not changed)");
                    }
                    Logger.error("repair: segment header damaged, setting it and later segments aside file={} problem={}",
                            file, problem);
                    segments.remove(seg.base());
                    seg.close();
                    // It and every later file go aside, though those are not opened yet: left in
                    // place, a later file would come back at the next start as a gap, or as proof
                    // that the repaired tail had been forced.
                    for (Path later : files.subList(f, files.size())) {
                        setAside(later, setAside, io);
                    }
                    io.forceDirectory(dir);
                    break;
                }
            }
            Segment previous = null;
            for (Segment s : new ArrayList<>(segments.values())) {
                if (previous != null && previous.base() + previous.size() != s.base()
                        && previous.base() + previous.size() <= scanFrom) {
                    // Crash window: retention deleted these old segments (everything in them was
                    // split and checkpointed: they end below both checkpoints) and the power went
                    // before the folder was forced; a cut can bring any of the deleted names back,
                    // leaving a gap after them. They hold nothing the store still needs. Before the
                    // folder force below, a second cut can bring them back again (and this branch
                    // runs again); after it, they are gone for good.
                    for (Segment old : new ArrayList<>(segments.headMap(s.base(), false).values())) {
                        segments.remove(old.base());
                        old.close();
                        io.deleteIfExists(old.file());
                        removedEmpty.add(old.file());
                        Logger.warn("removed a reclaimed log segment a power cut brought back file={}", old.file());
                    }
                    io.forceDirectory(dir);
                    previous = s;
                    continue;
                }
                if (previous != null && previous.base() + previous.size() != s.base()) {
                    // Segments are only ever added at the end and removed from the front, so a gap
                    // means a file was lost or removed by hand.
                    throw new CorruptLogException(s.file(), 0, "gap in the log: previous segment ends at "
                            + (previous.base() + previous.size()) + " but this one starts at " + s.base());
                }
                previous = s;
            }

            boolean fromCheckpoint = scanFrom > 0;
            long start = scanFrom;
            if (start < segments.firstKey() + SegmentHeader.LENGTH
                    || start >= segments.lastKey() + segments.lastEntry().getValue().size()) {
                if (fromCheckpoint) {
                    Logger.warn("checkpoint position outside the log, scanning from the start position={}", start);
                }
                fromCheckpoint = false;
                start = segments.firstKey() + SegmentHeader.LENGTH;
            }

            // ---- the scan
            long records = 0;
            long bytes = 0;
            Segment seg = segments.floorEntry(start).getValue();
            long offset = Math.max(start - seg.base(), SegmentHeader.LENGTH);
            final Segment scanStartSegment = seg;
            final long scanStartOffset = offset;
            FrameReader.Frame stop;
            while (true) {
                FrameReader.Frame f = FrameReader.read(seg.mapping(), seg.base(), offset);
                if (f.kind() == FrameReader.Kind.RECORD) {
                    onRecord.accept(f.record());
                    records++;
                    bytes += f.next() - offset;
                    offset = f.next();
                    continue;
                }
                if (f.kind() == FrameReader.Kind.SEAL) {
                    var next = segments.higherEntry(seg.base());
                    if (next == null) {
                        // Crash window: the writer sealed this segment and forced it, but died
                        // before creating the next one (or its creation failed: disk full). The
                        // next append rolls to a new segment.
                        stop = f;
                        break;
                    }
                    seg = next.getValue();
                    offset = SegmentHeader.LENGTH;
                    continue;
                }
                stop = f;
                break;
            }

            long end = seg.base() + offset;
            Path cutFile = null;
            long cutOffset = -1;
            long cutBytes = 0;
            // Crash window: the last run was killed (SIGKILL, OOM, the watchdog) and its unforced
            // pages are still in the page cache; the scan accepted them. They were never
            // acknowledged, but from now on they are history: readers see them and new records'
            // durable_before vouches for them. Force what the scan accepted before anything new
            // is written, or a power cut after this start loses them and the next start refuses
            // to open (pages that were already durable cost msync nothing). Before this line the
            // scanned range is only as durable as the last run left it; after it, all of it.
            forceScanned(io, segments, scanStartSegment, scanStartOffset, seg, offset);
            if (stop.kind() == FrameReader.Kind.SEAL) {
                // Sealed tail segment: the writer starts by rolling. Nothing to cut.
                MainLog log = new MainLog(dir, io, segmentSize, segments, seg, offset, true);
                ok = true;
                return new MainLog.Opened(log, new RecoveryReport(start, fromCheckpoint, segments.size(), records,
                        bytes, end, null, -1, 0, setAside, removedEmpty, millisSince(started)));
            }

            // Crash window (standby): durable_before in shipped records says what was durable on the
            // PRIMARY. A standby forces later than the primary, so a power cut here can keep a
            // later page and lose an earlier one that this board never forced: that is a torn
            // tail on this board, not damage, and the primary ships the bytes again. So on a
            // standby the value is advisory and only a checkpoint (written after a force here)
            // proves bytes were forced. We chose this over a durable mark written after each
            // force: that would cost a second fsync per batch on an SD card, and what it protects
            // (bytes this standby forced) is still on the primary to fetch again; a standby cut
            // below what it reported durable is said in the journal by the cut warning below.
            long evidence = durableBeforeAdvisory ? -1 : findDurableEvidence(segments, seg, offset, end);
            if (evidence < 0 && end < knownForced) {
                // A checkpoint was written at knownForced only after everything before it had
                // been forced: a second proof that these bytes were acknowledged history.
                evidence = knownForced;
            }
            if (evidence >= 0) {
                String problem = (stop.kind() == FrameReader.Kind.EMPTY ? "zeroed frame" : stop.problem())
                        + "; a later record at position " + evidence + " proves these bytes had been forced";
                if (!repair) {
                    throw new CorruptLogException(seg.file(), offset, problem
                            + " (refusing to open; run with --repair to cut the log here, losing what follows)");
                }
                Logger.error("repair: cutting the main log at damage file={} offset={} problem={}", seg.file(), offset, problem);
            }

            // Crash window: the writer died between writing frames and forcing them (a torn
            // batch), or the damage is being repaired. Zero the bytes from here to the last
            // non-zero word (a recycled segment: to its last own frame) so no stale frame can
            // surface later, and force.
            MemorySegment mapping = seg.mapping();
            long nonZeroEnd = FrameReader.endOfCut(mapping, seg.base(), offset);
            if (nonZeroEnd > offset) {
                cutFile = seg.file();
                cutOffset = offset;
                cutBytes = nonZeroEnd - offset;
                mapping.asSlice(offset, nonZeroEnd - offset).fill((byte) 0);
                io.force(mapping, offset, nonZeroEnd - offset);
                Logger.warn("cut torn tail of the main log file={} offset={} bytes={}", cutFile, cutOffset, cutBytes);
            }
            for (var later : new ArrayList<>(segments.tailMap(seg.base(), false).values())) {
                segments.remove(later.base());
                later.close();
                if (evidence >= 0) {
                    setAside(later.file(), setAside, io);
                } else {
                    // Crash window: a roll created the next segment but nothing durable reached
                    // it (everything after the tail is unforced): remove it.
                    io.deleteIfExists(later.file());
                    removedEmpty.add(later.file());
                }
            }
            if (!setAside.isEmpty() || !removedEmpty.isEmpty()) {
                io.forceDirectory(dir);
            }
            MainLog log = new MainLog(dir, io, segmentSize, segments, seg, offset, false);
            ok = true;
            return new MainLog.Opened(log, new RecoveryReport(start, fromCheckpoint, segments.size(), records, bytes,
                    end, cutFile, cutOffset, cutBytes, setAside, removedEmpty, millisSince(started)));
        } finally {
            if (!ok) {
                segments.values().forEach(Segment::close);
            }
        }
    }

    /** Forces every byte the scan read, from its start to {@code tail} at {@code tailOffset}. */
    private static void forceScanned(StorageIo io, ConcurrentSkipListMap<Long, Segment> segments, Segment first,
                                     long firstOffset, Segment tail, long tailOffset) throws IOException {
        for (Segment s : segments.subMap(first.base(), true, tail.base(), true).values()) {
            long from = s == first ? firstOffset : SegmentHeader.LENGTH;
            long to = s == tail ? tailOffset : s.size();
            if (to > from) {
                io.force(s.mapping(), from, to - from);
            }
        }
    }

    /** Position of a valid record after {@code end} that proves {@code end} had been forced, or -1. */
    private static long findDurableEvidence(ConcurrentSkipListMap<Long, Segment> segments, Segment tail,
                                            long offset, long end) {
        long found = FrameReader.findDurableFrameAfter(tail.mapping(), tail.base(), offset + RecordFrame.ALIGNMENT, end);
        if (found >= 0) {
            return found;
        }
        for (Segment later : segments.tailMap(tail.base(), false).values()) {
            found = FrameReader.findDurableFrameAfter(later.mapping(), later.base(), SegmentHeader.LENGTH, end);
            if (found >= 0) {
                return found;
            }
        }
        return -1;
    }

    private static void setAside(Path file, List<Path> setAside, StorageIo io) throws IOException {
        Path target = file.resolveSibling(file.getFileName() + ".set-aside");
        if (Files.exists(target)) {
            // An earlier repair's evidence is never overwritten.
            throw new java.nio.file.FileAlreadyExistsException(target.toString(), null,
                    "an earlier repair set this segment aside; move it away to repair again");
        }
        io.rename(file, target);
        setAside.add(target);
    }

    private static void removeTempFiles(Path dir, StorageIo io) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.seg.tmp")) {
            for (Path tmp : ds) {
                // Crash window: a segment was being created and never renamed into place.
                Logger.info("removing unfinished segment file={}", tmp);
                io.deleteIfExists(tmp);
            }
        }
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.seg")) {
            for (Path p : ds) {
                if (Segment.baseOf(p) >= 0) {
                    files.add(p);
                }
            }
        }
        files.sort(java.util.Comparator.comparingLong(Segment::baseOf));
        return files;
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
