package io.ringstore.read;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.PositionReclaimedException;
import io.ringstore.log.RecordFields;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.split.StreamFileException;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.writer.StreamTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Serves stream reads on the caller's thread: what the splitter has moved comes from the stream
 * file (one sequential read), the unsplit rest from the main log at the positions the tail
 * index gives. A read that starts after an append was acknowledged sees it, whatever the
 * splitter is doing: the writer indexes positions before it acknowledges, and the splitter
 * drops them from the index only after the file holding them is durable.
 */
public final class StreamReader {
    private static final int ATTEMPTS = 3;
    private static final long REBUILD_WAIT_MILLIS = 2_000;

    private final MainLog log;
    private final StreamTable table;
    private final TailIndex tail;
    private final StreamFiles files;
    private final Function<String, CompletableFuture<Void>> rebuild;
    private final StreamVisibility visibility;
    private final ResumePoints points = new ResumePoints();

    /**
     * @param rebuild asks the splitter to rebuild a damaged stream file from the log
     */
    public StreamReader(MainLog log, StreamTable table, TailIndex tail, StreamFiles files,
                        Function<String, CompletableFuture<Void>> rebuild) {
        this(log, table, tail, files, rebuild, StreamVisibility.ALL);
    }

    /**
     * @param rebuild    asks the splitter to rebuild a damaged stream file from the log
     * @param visibility retention limits: no read returns an event past them
     */
    public StreamReader(MainLog log, StreamTable table, TailIndex tail, StreamFiles files,
                        Function<String, CompletableFuture<Void>> rebuild, StreamVisibility visibility) {
        this.visibility = visibility;
        this.log = log;
        this.table = table;
        this.tail = tail;
        this.files = files;
        this.rebuild = rebuild;
    }

    /**
     * Reads up to {@code maxCount} events of {@code stream}: forward from {@code fromVersion}, or
     * backward from it ({@code -1}: from the last event).
     *
     * @throws RingStoreException STREAM_NOT_FOUND for a stream never written; STORAGE_ERROR when
     *         its file is damaged and cannot be rebuilt
     */
    public StreamSlice read(String stream, long fromVersion, int maxCount, Direction direction) {
        check(fromVersion, maxCount, direction);
        return withRetries(stream, () -> readOnce(stream, fromVersion, maxCount, direction));
    }

    /**
     * Receives the events of a forward read ({@link #readForward}) as their stored bodies (a
     * protobuf LogRecord each, byte for byte), in version order.
     */
    public interface BodySink {
        /**
         * Takes one event; false when the page is full, so that the read stops before it (the
         * next page starts at its version). {@code body[offset .. offset + length)} and
         * {@code fields} are valid only during the call.
         */
        boolean accept(byte[] body, int offset, int length, RecordFields fields);

        /** Forgets what was taken: the read starts over (a segment was reclaimed under it, or a damaged file rebuilt). */
        void clear();
    }

    /** What a forward read ({@link #readForward}) found besides its events; fields as in {@link StreamSlice}. */
    public record PageEnd(long lastVersion, long nextVersion) {
        public boolean endOfStream() {
            return nextVersion < 0;
        }
    }

    /**
     * A forward read like {@code read(stream, fromVersion, maxCount, FORWARD)} that hands each
     * event to {@code sink} as the bytes it is stored as, without decoding it into an object: the
     * same events, the same checks and the same guarantees, at a fraction of the cost per event
     * (what a whole-stream read through the socket spends its time on: issue 19).
     */
    public PageEnd readForward(String stream, long fromVersion, int maxCount, BodySink sink) {
        check(fromVersion, maxCount, Direction.FORWARD);
        return withRetries(stream, () -> {
            sink.clear();
            return readForwardOnce(stream, fromVersion, maxCount, sink);
        });
    }

    private static void check(long fromVersion, int maxCount, Direction direction) {
        if (maxCount < 1) {
            throw RingStoreException.invalid("count must be >= 1: " + maxCount);
        }
        if (direction == Direction.FORWARD && fromVersion < 0) {
            throw RingStoreException.invalid("a forward read starts at a version >= 0: " + fromVersion);
        }
    }

    private <T> T withRetries(String stream, java.util.function.Supplier<T> read) {
        RuntimeException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                return read.get();
            } catch (PositionReclaimedException e) {
                // Retention deleted a segment our tail snapshot pointed into: those events are in
                // the stream file by now (retention only reclaims split log). Read again.
                last = e;
            } catch (DamagedFile e) {
                last = new RingStoreException(ErrorCode.STORAGE_ERROR, e.getMessage());
                try {
                    rebuild.apply(stream).get(REBUILD_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                } catch (Exception rebuildFailed) {
                    throw new RingStoreException(ErrorCode.STORAGE_ERROR, e.getMessage()
                            + "; rebuilding it from the log failed: " + rebuildFailed);
                }
            }
        }
        throw last;
    }

    /** A stream file that cannot serve the read; the splitter can rebuild it. */
    private static final class DamagedFile extends RuntimeException {
        DamagedFile(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * What a read of {@code stream} covers: versions {@code lo..hi} (none when lo > hi), the
     * file's part below {@code snap.base()}, the rest from the log at the snapshot's positions.
     */
    private record Plan(Path file, TailIndex.Snapshot snap, long lastVersion, StreamVisibility.Window window,
                        long lo, long hi) {
        /** The last version that must come from the stream file. */
        long fileHi() {
            return snap != null ? Math.min(hi, snap.base() - 1) : hi;
        }
    }

    private Plan plan(String stream, long fromVersion, int maxCount, Direction direction) {
        // Order matters. The table's version first: if the tail then has nothing unsplit for the
        // stream, that version is in the file. Then the tail snapshot: every version below its
        // base is durable in the file, whatever the splitter does while we read.
        if (visibility.deleted(stream)) {
            throw new RingStoreException(ErrorCode.STREAM_DELETED, "stream deleted: stream=" + stream);
        }
        long written = table.versionFromAnyThread(stream);
        TailIndex.Snapshot snap = tail.snapshot(stream, log.committedPosition());
        if (snap == null && written < 0) {
            throw new RingStoreException(ErrorCode.STREAM_NOT_FOUND, "stream not found: stream=" + stream);
        }
        Path file = files.pathFor(stream);
        // The last committed version: the table may be ahead by versions not committed yet, but
        // those are always in the tail index, whose snapshot stops at the committed position.
        // window() below makes the same choice for $all readers.
        long lastVersion = snap != null ? snap.lastVersion() : written;
        if (lastVersion < 0) {
            throw new RingStoreException(ErrorCode.STREAM_NOT_FOUND, "stream not found: stream=" + stream);
        }
        // Retention: versions below firstVisible are never returned, whether the compactor has
        // removed them from the file yet or not.
        StreamVisibility.Window window = visibility.window(stream, lastVersion, System.currentTimeMillis() * 1_000);
        long firstVisible = window.firstVersion();
        long lo;
        long hi;
        if (direction == Direction.FORWARD) {
            lo = Math.max(fromVersion, firstVisible);
            hi = Math.min(lastVersion, lo + maxCount - 1);
        } else {
            hi = fromVersion < 0 || fromVersion > lastVersion ? lastVersion : fromVersion;
            lo = Math.max(firstVisible, hi - maxCount + 1);
        }
        return new Plan(file, snap, lastVersion, window, lo, hi);
    }

    private PageEnd readForwardOnce(String stream, long fromVersion, int maxCount, BodySink sink) {
        Plan p = plan(stream, fromVersion, maxCount, Direction.FORWARD);
        if (p.lo() > p.hi()) {
            return new PageEnd(p.lastVersion(), -1);
        }
        RecordFields fields = new RecordFields();
        // The version after the last one read (taken, or hidden by an age limit): where the next page starts.
        long after = p.lo();
        boolean full = false;
        long fileHi = p.fileHi();
        if (p.lo() <= fileHi) {
            long r = bodiesFromFile(stream, p, fields, sink);
            full = r < 0;
            after = full ? -r - 1 : r;
        }
        TailIndex.Snapshot snap = p.snap();
        if (!full && snap != null) {
            for (long v = Math.max(after, snap.base()); v <= p.hi(); v++) {
                long position = snap.positions()[(int) (v - snap.base())];
                byte[] body = log.readBodyAt(position);
                if (!fields.scan(body, 0, body.length) || fields.position() != position || fields.version() != v) {
                    // As MainLog.readAt: the index named a position that holds no such record.
                    throw new IllegalArgumentException("no record of version " + v + " at position=" + position
                            + ": stream=" + stream);
                }
                if (p.window().shows(v, fields.timestampMicros()) && !sink.accept(body, 0, body.length, fields)) {
                    break;
                }
                after = v + 1;
            }
        }
        return new PageEnd(p.lastVersion(), after <= p.lastVersion() ? after : -1);
    }

    /**
     * Hands versions {@code lo..fileHi} of the plan from the stream file to {@code sink} (those
     * the window shows); returns the version after the last one read, or, when the sink was full,
     * minus one minus the version it refused.
     */
    private long bodiesFromFile(String stream, Plan p, RecordFields fields, BodySink sink) {
        Path file = p.file();
        long lo = p.lo();
        long hi = p.fileHi();
        Object key = fileKey(file);
        try (StreamFileReader r = resume(stream, file, key, lo)) {
            long from = Math.max(lo, r.firstVersion()); // earlier ones were lost (reported at rebuild)
            if (from > hi) {
                return hi + 1; // retention rewrote the file past what this read wanted
            }
            long lastOffset = -1;
            long lastPosition = 0;
            long lastV = -1;
            try {
                while (r.nextBody(fields)) {
                    long v = fields.version();
                    if (v >= from) {
                        if (p.window().shows(v, fields.timestampMicros())
                                && !sink.accept(r.bodyArray(), r.bodyOffset(), r.bodyLength(), fields)) {
                            return -v - 1;
                        }
                    }
                    lastOffset = r.recordOffset();
                    lastPosition = fields.position();
                    lastV = v;
                    if (v >= hi) {
                        return v + 1;
                    }
                }
            } finally {
                if (lastOffset >= 0) {
                    points.remember(new ResumePoints.Point(stream, key, lastV, lastPosition, lastOffset));
                }
            }
            throw new DamagedFile("stream file ends before version " + hi + ": file=" + file
                    + (r.stopReason() != null ? " (" + r.stopReason() + ")" : ""));
        } catch (StreamFileException e) {
            throw new DamagedFile(e.getMessage());
        } catch (NoSuchFileException e) {
            throw new DamagedFile("stream file missing: file=" + file);
        } catch (IOException e) {
            throw new RingStoreException(ErrorCode.STORAGE_ERROR, "reading stream file failed: " + e);
        }
    }

    private StreamSlice readOnce(String stream, long fromVersion, int maxCount, Direction direction) {
        Plan p = plan(stream, fromVersion, maxCount, direction);
        TailIndex.Snapshot snap = p.snap();
        Path file = p.file();
        long lastVersion = p.lastVersion();
        StreamVisibility.Window window = p.window();
        long firstVisible = window.firstVersion();
        long lo = p.lo();
        long hi = p.hi();
        if (lo > hi) {
            return new StreamSlice(stream, List.of(), lastVersion, -1);
        }
        List<LogRecord> out = new ArrayList<>((int) Math.max(0, Math.min(hi - lo + 1, 1024)));
        long fileHi = p.fileHi(); // what must come from the file
        long next = lo;
        if (lo <= fileHi) {
            next = readFromFile(stream, file, lo, fileHi, out);
        }
        if (snap != null) {
            for (long v = Math.max(next, snap.base()); v <= hi; v++) {
                out.add(log.readAt(snap.positions()[(int) (v - snap.base())]));
            }
        }
        long nextVersion;
        if (direction == Direction.FORWARD) {
            long after = out.isEmpty() ? lo : out.getLast().getVersion() + 1;
            nextVersion = after <= lastVersion ? after : -1;
        } else {
            nextVersion = lo > firstVisible ? lo - 1 : -1;
        }
        // Retention, event by event with the same rule $all readers use: in effect the age limit,
        // since the range above already starts at firstVisible (timestamps rise with versions,
        // so this cuts a prefix; a backward read that lost any has reached the visible start).
        int before = out.size();
        out.removeIf(r -> !window.shows(r.getVersion(), r.getTimestampMicros()));
        if (direction == Direction.BACKWARD && out.size() < before) {
            nextVersion = -1;
        }
        if (direction == Direction.BACKWARD) {
            Collections.reverse(out);
        }
        return new StreamSlice(stream, out, lastVersion, nextVersion);
    }

    /**
     * What of {@code stream} a stream read started now would return, for {@code $all} readers
     * ({@link AllReader}): its limits applied to its last committed version, taken the way
     * {@link #read} takes it (the tail index below the committed position, else the table).
     */
    public StreamVisibility.Window window(String stream, long nowMicros) {
        // The table first, as in readOnce: if the tail then holds nothing of the stream, every
        // version up to this one is split and committed.
        long written = table.versionFromAnyThread(stream);
        long unsplit = tail.lastVersion(stream, log.committedPosition());
        return visibility.window(stream, unsplit != TailIndex.NOT_INDEXED ? unsplit : written, nowMicros);
    }

    /**
     * Adds versions {@code lo..hi} from the stream file to {@code out}; returns the version after
     * the last one added. Starts where an earlier read of the stream stopped when that was just
     * before {@code lo} (the next page of a paged read), else at the file's first record.
     */
    private long readFromFile(String stream, Path file, long lo, long hi, List<LogRecord> out) {
        Object key = fileKey(file);
        try (StreamFileReader r = resume(stream, file, key, lo)) {
            long from = Math.max(lo, r.firstVersion()); // earlier ones were lost (reported at rebuild)
            if (from > hi) {
                // Retention rewrote the file past what this read wanted (its limits moved on since).
                return hi + 1;
            }
            LogRecord rec;
            while ((rec = r.next()) != null) {
                long v = rec.getVersion();
                if (v >= from) {
                    out.add(rec);
                }
                if (v >= hi) {
                    points.remember(new ResumePoints.Point(stream, key, v, rec.getPosition(), r.recordOffset()));
                    return v + 1;
                }
            }
            throw new DamagedFile("stream file ends before version " + hi + ": file=" + file
                    + (r.stopReason() != null ? " (" + r.stopReason() + ")" : ""));
        } catch (StreamFileException e) {
            throw new DamagedFile(e.getMessage());
        } catch (NoSuchFileException e) {
            throw new DamagedFile("stream file missing: file=" + file);
        } catch (IOException e) {
            throw new RingStoreException(ErrorCode.STORAGE_ERROR, "reading stream file failed: " + e);
        }
    }

    /**
     * A reader of {@code file} whose next record is {@code lo} when a resume point says where
     * {@code lo - 1} is and the record there is that one; otherwise one at the file's start.
     */
    private StreamFileReader resume(String stream, Path file, Object key, long lo) throws IOException {
        ResumePoints.Point p = lo == 0 ? null : points.find(stream, key, lo - 1);
        if (p != null) {
            StreamFileReader r = StreamFileReader.openAt(file, stream, p.offset());
            try {
                LogRecord at = r.next();
                if (at != null && at.getVersion() == p.version() && at.getPosition() == p.position()) {
                    return r;
                }
            } catch (IOException | RuntimeException e) {
                // Not the record the point named (the file changed): read from the start below.
            }
            r.close();
        }
        return StreamFileReader.open(file, stream);
    }

    /**
     * What tells this file from one renamed over it since (device and inode), taken before it is
     * opened: a rename in between leaves a point with the old key, which no later read matches.
     */
    private static Object fileKey(Path file) {
        try {
            Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            return key != null ? key : file; // no keys on this filesystem: points are then checked by their record alone
        } catch (NoSuchFileException e) {
            throw new DamagedFile("stream file missing: file=" + file);
        } catch (IOException e) {
            throw new RingStoreException(ErrorCode.STORAGE_ERROR, "reading stream file failed: " + e);
        }
    }
}
