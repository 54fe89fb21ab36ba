package io.ringstore.retention;

import io.ringstore.log.MainLog;
import io.ringstore.read.TailIndex;
import io.ringstore.split.StreamFileException;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.writer.StreamTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.LongSupplier;
import io.ringstore.log.proto.LogRecord;
import org.tinylog.Logger;

/**
 * Enforces retention on disk and keeps the store under its disk budget. It runs on the
 * splitter's thread, between the splitter's windows ({@link #betweenWindows}), so a stream file
 * is never rewritten while the splitter appends to it, and each call does a bounded slice of
 * work: rewrites for about a quarter of {@link #SLICE_MILLIS}, all of it while over the
 * low-water mark (a rewrite that has started finishes, so one large file can take longer). Like the splitter it stands back
 * while the storage is under I/O pressure, unless the store is over its low-water mark. It
 * never touches the writer: the writer only reads the budget's "refusing" flag.
 *
 * <p>Reclaim order, when usage is over the low-water mark (each step only when the one before
 * did not bring usage under it):
 * <ol>
 *   <li>main-log segments that are split, covered by the stream-table checkpoint and past log
 *       retention ({@code retain_log_minutes}, {@code retain_log_bytes});</li>
 *   <li>stream data past its limits (own metadata or a prefix's): every limited stream's file is
 *       rewritten without the events past its limits, however few; hard-deleted streams' files
 *       are removed;</li>
 *   <li>main-log segments that are split and checkpointed but still inside log retention (the
 *       {@code $all} history yields to the budget).</li>
 * </ol>
 * Step 3 also runs at once, ahead of step 2's end, when usage comes within one log segment of
 * the refusal point: that split log is a second copy of what the stream files hold, and appends must
 * not be refused while it is kept.
 * If usage is then still within one segment and 4 MiB of the budget, appends are refused with
 * STORAGE_FULL (status and fault LED say so) until a later pass frees space; limits and deletes
 * are still accepted. Below the low-water mark, limited streams are visited every
 * {@code compact_interval}, and a file is rewritten only when what it drops is at least what it
 * keeps (and at least 4 KiB), so a stream with a count limit costs about one extra copy of what
 * it keeps per limit's worth of appends.
 *
 * <p>Usage = log segment files (exact: count x segment size) + everything else in the data
 * folder (stream files and checkpoints, rounded up to 4 KiB each), walked on a thread of its own
 * ({@link UsageWalker}) from start and every {@link #WALK_MILLIS}, and estimated in between as
 * the walked size + bytes the splitter has written to stream files since the walk was asked for
 * ({@link StreamFiles#bytesWritten()}) - bytes freed by rewrites since. Until the first walk
 * ends, the budget is not measured and refuses nothing. The budget also counts the log bytes
 * the splitter has still to copy (see {@link DiskBudget}).
 */
public final class StreamCompactor {
    static final long SLICE_MILLIS = 50;
    static final long WALK_MILLIS = 10 * 60_000;
    /** After a walk failed, the next is asked for this much later. */
    static final long WALK_RETRY_MILLIS = 10_000;
    static final long MIN_DROP_BYTES = 4096;
    /** A batch of rewrites is committed once its new files hold this much (bounds the syncfs). */
    static final long MAX_BATCH_BYTES = 16L << 20;

    /** The store parts the compactor works on. */
    public record Parts(MainLog log, StreamTable table, TailIndex tail, StreamFiles files, Path dataDir,
                        LongSupplier splitPosition, LongSupplier tableCheckpointPosition,
                        long retainMillis, long retainBytes) {}

    private final Retention retention;
    private final Parts p;
    private final RetentionOptions options;
    private final DiskBudget budget;

    // Splitter-thread state.
    private final ArrayDeque<String> pending = new ArrayDeque<>();
    private final List<StreamFileRewrite.Prepared> batch = new java.util.ArrayList<>();
    private boolean passAggressive;
    private long nextPassMillis;
    private boolean started;
    private final UsageWalker walker;
    private boolean walking;
    private boolean walked;
    private long walkedBytes;
    private long walkedAtWritten;
    private long walkedAtFreed;
    private long askedAtWritten;
    private long askedAtFreed;
    private long nextWalkMillis;
    private boolean wasRefusing;
    private long nextWorkNanos;

    // Published counters.
    private volatile long filesRewritten;
    private volatile long filesDeleted;
    private volatile long streamBytesFreed;
    private volatile long logSegmentsByRetention;
    private volatile long logSegmentsEarly;
    private volatile long passes;
    private final StringBuffer order = new StringBuffer();
    private volatile java.util.function.Consumer<String> rewriteListener = stream -> { };
    private volatile java.util.function.Consumer<String> damageListener = stream -> { };
    private volatile boolean paused;

    public StreamCompactor(Retention retention, RetentionOptions options, Parts parts) {
        this.retention = retention;
        this.options = options;
        this.p = parts;
        this.budget = retention.budget();
        this.walker = budget != null ? new UsageWalker(parts.dataDir()) : null;
        if (budget != null) {
            budget.watchLog(parts.log()::committedPosition);
        }
    }

    /** Stops the usage walk's thread (the store is closing). */
    public void stop() {
        if (walker != null) {
            walker.stop();
        }
    }

    /**
     * What the compactor has done, for status and tests. {@code order} lists the reclaim steps
     * as they happened (repeats folded): L log past retention, S stream files, E log inside
     * retention after a full stream pass, F log inside retention at the refusal point.
     */
    public record Stats(long filesRewritten, long filesDeleted, long streamBytesFreed, long logSegmentsByRetention,
                        long logSegmentsEarly, long passes, String order) {}

    /** Called on the splitter thread as each stream-file rewrite or removal begins (tests, tracing). */
    public void onRewrite(java.util.function.Consumer<String> listener) {
        this.rewriteListener = listener;
    }

    /**
     * Called on the splitter thread when a stream's file reads back damaged (the store asks the
     * splitter to rebuild it; the compactor never rewrites a damaged file).
     */
    public void onDamage(java.util.function.Consumer<String> listener) {
        this.damageListener = listener;
    }

    /**
     * Holds back limit-driven rewrites (budget work still runs: it is what keeps appends
     * flowing). For benchmarks that compare writing with and without reclamation.
     */
    public void setPaused(boolean p) {
        this.paused = p;
    }

    public Stats stats() {
        return new Stats(filesRewritten, filesDeleted, streamBytesFreed, logSegmentsByRetention, logSegmentsEarly,
                passes, order.toString());
    }

    /**
     * Splitter thread, between windows: one bounded slice of work.
     *
     * @param pressureHigh whether the splitter sees I/O pressure (then only budget work is done)
     */
    public void betweenWindows(boolean pressureHigh) {
        try {
            long now = System.currentTimeMillis();
            if (!started) {
                started = true;
                // Crash window: a rewrite batch died before its renames (temp files written, maybe
                // synced), or a rebuild before its rename: the stream files are the old ones,
                // whole; the temp files are garbage.
                int removed = StreamFileRewrite.removeLeftovers(p.files().io(), p.files().dir());
                if (removed > 0) {
                    Logger.warn("retention: removed {} temp file(s) of rewrites a crash interrupted", removed);
                }
            }
            boolean over = false;
            if (budget != null) {
                measure(now);
                over = budget.overLowWater();
            }
            if ((pressureHigh || paused) && !over) {
                return;
            }
            if (over) {
                reclaimOverLowWater(now);
            } else if ((!pending.isEmpty() || now >= nextPassMillis) && System.nanoTime() >= nextWorkNanos) {
                if (pending.isEmpty()) {
                    startPass(false, now);
                }
                long started = System.nanoTime();
                work(now);
                // Low priority: at most a quarter of the splitter thread's time below the low-water mark.
                long ended = System.nanoTime();
                nextWorkNanos = ended + 3 * (ended - started);
            }
        } catch (IOException | RuntimeException e) {
            // Nothing is lost: a rewrite that failed left the old file; the next pass retries.
            Logger.warn("retention pass failed, retrying later: {}", e.toString());
            pending.clear();
            nextPassMillis = System.currentTimeMillis() + options.compactIntervalMillis();
        }
    }

    private void reclaimOverLowWater(long now) throws IOException {
        // 0. the log's spare segment (kept for the next roll to recycle): room at no cost.
        p.log().dropSpare();
        // 1. log segments split and past retention.
        int n = reclaimLog(p.retainMillis(), p.retainBytes(), now, false);
        p.log().dropSpare(); // step 1 may have kept one
        if (n > 0) {
            logSegmentsByRetention += n;
            note('L');
            if (!measure(now)) {
                return;
            }
        }
        // At the refusal point with step 2 still under way: the split log inside retention is a
        // second copy of what the stream files hold, and refusing appends while it is kept would
        // be wrong. Step 3 runs now; step 2 goes on.
        if (budget.projectedBytes() + budget.headroomBytes() + p.log().segmentSize() > budget.budgetBytes()) {
            int early = reclaimLog(0, 0, now, true);
            if (early > 0) {
                logSegmentsEarly += early;
                note('F');
                if (!measure(now)) {
                    return;
                }
            }
        }
        // 2. stream data past its limits, aggressively.
        if (pending.isEmpty() && !passAggressive) {
            startPass(true, now);
        }
        passAggressive = true;
        if (!pending.isEmpty()) {
            work(now);
            measure(now);
            return;
        }
        // The aggressive pass is done; the next one starts after this step.
        passAggressive = false;
        if (!budget.overLowWater()) {
            return;
        }
        // 3. split log still inside retention.
        int early = reclaimLog(0, 0, now, true);
        if (early > 0) {
            logSegmentsEarly += early;
            note('E');
            measure(now);
        }
    }

    /**
     * {@code budgetForced}: steps 3 and the early step at the refusal point, where the budget
     * needs the room; connectors' holds (the forwarder's checkpoint) yield then, and say so.
     */
    private int reclaimLog(long retainMillis, long retainBytes, long now, boolean budgetForced) throws IOException {
        long safe = Math.min(p.splitPosition().getAsLong(), p.tableCheckpointPosition().getAsLong());
        return p.log().reclaim(safe, retainMillis, retainBytes, now, budgetForced).size();
    }

    private void note(char step) {
        if (order.length() < 4096 && (order.isEmpty() || order.charAt(order.length() - 1) != step)) {
            order.append(step);
        }
    }

    /** Measures usage and updates the budget; returns whether usage is still over the low-water mark. */
    private boolean measure(long now) throws IOException {
        long position = p.log().committedPosition();
        long written = p.files().bytesWritten();
        UsageWalker.Result result = walking ? walker.poll() : null;
        if (result != null) {
            walking = false;
            if (result.error() != null) {
                Logger.warn("disk usage walk failed, retrying: dir={} error={}", p.dataDir(), result.error().toString());
                nextWalkMillis = now + WALK_RETRY_MILLIS;
            } else {
                walked = true;
                walkedBytes = result.bytes();
                walkedAtWritten = askedAtWritten;
                walkedAtFreed = askedAtFreed;
            }
        }
        if (!walking && now >= nextWalkMillis && walker.request()) {
            // Outside the log (stream files, checkpoints): segments are counted exactly below.
            walking = true;
            askedAtWritten = written;
            askedAtFreed = streamBytesFreed;
            nextWalkMillis = now + WALK_MILLIS;
        }
        if (!walked) {
            return false;
        }
        long streams = Math.max(0, walkedBytes + (written - walkedAtWritten) - (streamBytesFreed - walkedAtFreed));
        // The log's segments, not its spare: the spare is what the next roll takes instead of new
        // room (the headroom the refusal point keeps for it), and reclaim over low water drops it
        // first. Counted here, it refused appends for a moment while room was free to take
        // (DiskBudgetTest in CI: one refusal the status never showed).
        long logBytes = (long) p.log().segmentFiles().size() * p.log().segmentSize();
        boolean refusing = budget.update(logBytes + streams, p.tail().bytes(), position);
        if (refusing != wasRefusing) {
            wasRefusing = refusing;
            if (refusing) {
                Logger.error(retention.storageFullMessage());
            } else {
                Logger.info("disk budget: back under, appends resume ({})", budget.describe());
            }
        }
        return budget.overLowWater();
    }

    private void startPass(boolean aggressive, long now) {
        passAggressive = aggressive;
        passes++;
        nextPassMillis = now + options.compactIntervalMillis();
        pending.addAll(retention.streamsWithOwnLimits());
        if (retention.hasPrefixes()) {
            for (String stream : p.table().namesFromAnyThread()) {
                if (stream != null && retention.coveredByPrefix(stream) && retention.own(stream) == null) {
                    pending.add(stream);
                }
            }
        }
    }

    /** Works through pending streams for one slice. */
    private void work(long now) throws IOException {
        // Below the low-water mark a quarter of the slice: the splitter gets its thread back soon.
        long deadline = System.nanoTime() + (passAggressive ? SLICE_MILLIS : SLICE_MILLIS / 4) * 1_000_000;
        long batchBytes = 0;
        try {
            while (!pending.isEmpty() && System.nanoTime() < deadline && batchBytes < MAX_BATCH_BYTES) {
                StreamFileRewrite.Prepared prepared = compact(pending.poll(), passAggressive);
                if (prepared != null) {
                    batch.add(prepared);
                    batchBytes += prepared.result().newBytes();
                }
            }
        } finally {
            commitBatch();
        }
    }

    /** Makes the prepared rewrites durable and puts them in place (two syncfs for the lot). */
    private void commitBatch() throws IOException {
        if (batch.isEmpty()) {
            return;
        }
        try {
            StreamFileRewrite.commit(p.files().io(), batch, p.files().dir());
            for (StreamFileRewrite.Prepared done : batch) {
                freed(Math.max(0, round4k(done.result().oldBytes()) - round4k(done.result().newBytes())));
                filesRewritten++;
            }
            note('S');
        } finally {
            batch.clear();
        }
    }

    /**
     * Brings one stream's file within its limits: removes it (hard delete), or prepares its
     * rewrite; returns the prepared rewrite, or null.
     */
    StreamFileRewrite.Prepared compact(String stream, boolean aggressive) throws IOException {
        StreamLimits limits = retention.effective(stream);
        if (limits == null) {
            return null;
        }
        Path file = p.files().pathFor(stream);
        if (limits.tombstone()) {
            // Unsplit events would recreate the file: wait until the splitter has moved them.
            if (p.tail().snapshot(stream, Long.MAX_VALUE) != null || !Files.exists(file)) {
                return null;
            }
            p.files().forget(stream);
            rewriteListener.accept(stream);
            long freed = StreamFileRewrite.delete(p.files().io(), file);
            freed(freed);
            filesDeleted++;
            note('S');
            Logger.info("retention: removed the file of hard-deleted stream={} bytes={}", stream, freed);
            return null;
        }
        long fileLast;
        try {
            fileLast = StreamFiles.lastVersionByFooter(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (fileLast < 0) {
            return null; // no file, nothing in it, or a torn tail the splitter repairs first
        }
        long last = lastForcedVersion(stream, fileLast);
        long keepFrom = Math.min(limits.firstVisible(last), fileLast + 1);
        if (!limits.hasAgeLimit()) {
            // Count and truncation limits are decided from versions alone: a 24-byte header read
            // spares most streams (those not yet worth a rewrite) a read of their events.
            long headerFirst = headerFirstVersion(file);
            long drop = keepFrom - headerFirst;
            if (headerFirst < 0 || drop <= 0 || (!aggressive && drop < fileLast + 1 - keepFrom)) {
                return null;
            }
        }
        long minMicros = limits.minTimestampMicros(System.currentTimeMillis() * 1_000);
        long dropBytes;
        long keepBytes;
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
            long size = Files.size(file);
            long headerEnd = r.offset();
            long keepAt = size;
            LogRecord rec;
            long at = r.offset();
            while ((rec = r.next()) != null) {
                if (rec.getVersion() >= keepFrom && rec.getTimestampMicros() >= minMicros) {
                    keepAt = at;
                    keepFrom = rec.getVersion();
                    break;
                }
                at = r.offset();
            }
            if (rec == null) {
                if (r.stopReason() != null || r.lastVersion() != fileLast) {
                    // Damage (issue 13, defect 1): a power cut kept the last group's footer and
                    // lost a page before it, or the file was damaged since. The read stopped
                    // early, not at the end of the file: what lies past the damage is unknown,
                    // so nothing is decided from it (taking this for "every event is past the
                    // limits" wrote a bare header claiming every version). The compactor runs
                    // before the splitter's first pass after a start, before torn files are
                    // repaired: the file is left as it is and the splitter rebuilds it.
                    Logger.warn("retention: skipping a damaged stream file, asking the splitter to rebuild it: "
                            + "file={} offset={} reason={}", file, r.offset(), r.stopReason() != null
                            ? r.stopReason() : "ends at version " + r.lastVersion() + ", footer says " + fileLast);
                    damageListener.accept(stream);
                    return null;
                }
                keepFrom = fileLast + 1;
            }
            if (keepFrom <= r.firstVersion()) {
                return null;
            }
            dropBytes = keepAt - headerEnd;
            keepBytes = size - keepAt;
        } catch (NoSuchFileException e) {
            return null;
        } catch (StreamFileException e) {
            Logger.warn("retention: skipping a damaged stream file, asking the splitter to rebuild it: {}",
                    e.getMessage());
            damageListener.accept(stream);
            return null;
        }
        boolean worth = aggressive ? dropBytes > 0
                : keepBytes == 0 || dropBytes >= Math.max(keepBytes, MIN_DROP_BYTES);
        if (!worth) {
            return null;
        }
        // The splitter's open handle and remembered last version refer to the old inode (the
        // batch is committed before this call returns to the splitter, so it never appends there).
        p.files().forget(stream);
        rewriteListener.accept(stream);
        StreamFileRewrite.Prepared prepared = StreamFileRewrite.prepare(p.files().io(), file, stream, keepFrom, fileLast);
        if (prepared == null) {
            // Damage past the first kept event: the file is left as it is, for the splitter to rebuild.
            Logger.warn("retention: skipping a stream file damaged past version {}, asking the splitter to rebuild it: "
                    + "file={}", keepFrom, file);
            damageListener.accept(stream);
        }
        return prepared;
    }

    /**
     * The last version of {@code stream} that is forced: in its file ({@code fileLast}, synced by
     * the splitter before it moved on) or in the log below its durable position. Not the stream
     * table's version: the writer updates the table before its force, and a count limit counted
     * from a version a failed force undoes or a power cut loses would drop events that must
     * stay visible (issue 13, item 7).
     */
    private long lastForcedVersion(String stream, long fileLast) {
        long forced = Math.min(p.log().committedPosition(), p.log().durablePosition());
        long unsplit = p.tail().lastVersion(stream, forced);
        return unsplit == TailIndex.NOT_INDEXED ? fileLast : Math.max(fileLast, unsplit);
    }

    /** The first version a stream file's header names (unchecked: a hint), -1 when unreadable. */
    private static long headerFirstVersion(Path file) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(io.ringstore.split.StreamFileFormat.NAME_LENGTH_OFFSET)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // fill
            }
        } catch (NoSuchFileException e) {
            return -1;
        }
        if (b.hasRemaining() || b.getInt(io.ringstore.split.StreamFileFormat.MAGIC_OFFSET) != io.ringstore.split.StreamFileFormat.MAGIC) {
            return -1;
        }
        return b.getLong(io.ringstore.split.StreamFileFormat.FIRST_VERSION_OFFSET);
    }

    private void freed(long bytes) {
        streamBytesFreed += bytes;
    }

    private static long round4k(long n) {
        return (n + 4095) / 4096 * 4096;
    }

    /** Streams waiting in the current pass (tests). */
    List<String> pending() {
        return List.copyOf(pending);
    }
}
