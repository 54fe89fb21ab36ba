package io.ringstore.read;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.PositionReclaimedException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.split.StreamFileException;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.writer.StreamTable;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
        if (maxCount < 1) {
            throw RingStoreException.invalid("count must be >= 1: " + maxCount);
        }
        if (direction == Direction.FORWARD && fromVersion < 0) {
            throw RingStoreException.invalid("a forward read starts at a version >= 0: " + fromVersion);
        }
        RuntimeException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                return readOnce(stream, fromVersion, maxCount, direction);
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

    private StreamSlice readOnce(String stream, long fromVersion, int maxCount, Direction direction) {
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
        if (lo > hi) {
            return new StreamSlice(stream, List.of(), lastVersion, -1);
        }
        List<LogRecord> out = new ArrayList<>((int) Math.max(0, Math.min(hi - lo + 1, 1024)));
        long fileHi = snap != null ? Math.min(hi, snap.base() - 1) : hi; // what must come from the file
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
     * the last one added.
     */
    private long readFromFile(String stream, Path file, long lo, long hi, List<LogRecord> out) {
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
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
}
