package io.ringstore.store;

import io.ringstore.checkpoint.Checkpointer;
import io.ringstore.checkpoint.StreamTableCheckpoint;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllReader;
import io.ringstore.read.AllSlice;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.log.RecoveryReport;
import io.ringstore.writer.AppendRequest;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.read.StreamReader;
import io.ringstore.read.TailIndex;
import io.ringstore.split.PressureGauge;
import io.ringstore.split.Splitter;
import io.ringstore.split.SplitterCheckpoint;
import io.ringstore.split.SplitterOptions;
import io.ringstore.split.SplitterState;
import io.ringstore.split.SplitterStatus;
import io.ringstore.split.StreamFiles;
import io.ringstore.split.SystemPressureGauge;
import io.ringstore.retention.DiskBudget;
import io.ringstore.retention.Retention;
import io.ringstore.retention.StreamCompactor;
import io.ringstore.retention.StreamLimits;
import io.ringstore.writer.RecentEventIds;
import io.ringstore.writer.StreamTable;
import io.ringstore.writer.Writer;
import io.ringstore.writer.WriterStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.tinylog.Logger;

/**
 * An open store: the main log, its writer thread and its checkpointer, behind one facade.
 * Open with {@link #open}; close to stop cleanly (everything queued is written and forced, and
 * a checkpoint makes the next start scan nothing).
 */
public final class RingStore implements AutoCloseable {
    /**
     * How long a clean stop lets the splitter move what it still holds back (so the next start
     * scans nothing); well inside systemd's stop timeout. What is left is re-read at start.
     */
    private static final long STOP_DRAIN_MILLIS = 10_000;
    private final StoreConfig config;
    private final DataDirLock lock;
    private final MainLog log;
    private final StreamTable table;
    private final Writer writer;
    private final Checkpointer checkpointer;
    private final Thread writerThread;
    /** The replica ack modes' completion step; null in a local store. */
    private final Thread ackThread;
    private final Thread checkpointThread;
    private final Thread splitterThread;
    private final TailIndex tail;
    private final StreamFiles streamFiles;
    private final Splitter splitter;
    private final StreamReader reader;
    private final AllReader allReader;
    private final RecoveryReport recovery;
    private final Retention retention;
    private final StreamCompactor compactor;
    /** Null when replication is not configured (nothing listens on the network then). */
    private final io.ringstore.replication.Replication replication;
    private volatile boolean closed;
    /** Guards {@link #closedStatus} and the log's unmapping against a status being taken meanwhile. */
    private final Object statusLock = new Object();
    /** The status as the store closed; null while open. */
    private volatile StoreStatus closedStatus;

    private RingStore(StoreConfig config, DataDirLock lock, MainLog log, StreamTable table, TailIndex tail,
                      RecoveryReport recovery, List<RecentEventIds.Entry> recoveredIds, long tableCheckpoint,
                      long splitPosition, io.ringstore.replication.ReplicationOptions replicationOptions) throws IOException {
        this.config = config;
        this.lock = lock;
        this.log = log;
        this.table = table;
        this.tail = tail;
        this.recovery = recovery;
        this.checkpointer = new Checkpointer(config.io(), config.checkpointDir(), tableCheckpoint);
        this.writer = new Writer(log, table, tail, config.writer(), checkpointer);
        for (RecentEventIds.Entry id : recoveredIds) {
            writer.rememberRecovered(id.eventId(), id.stream(), id.version(), id.position());
        }
        SplitterOptions so = config.splitter();
        this.streamFiles = new StreamFiles(config.streamsDir(), so.maxOpenFiles(), so.rememberedFiles(), config.io());
        PressureGauge gauge = config.pressure() != null ? config.pressure()
                : new SystemPressureGauge(writer, config.writer().queueCapacity(), config.psiFile(),
                        so.pressure());
        this.splitter = new Splitter(log, streamFiles, tail, config.io(), config.checkpointDir(), so, gauge,
                checkpointer::lastWrittenPosition, splitPosition);
        // Reads no folder: usage is measured in the background (readiness does not wait for a walk).
        DiskBudget budget = config.retention().hasBudget()
                ? DiskBudget.of(config.retention(), config.dataDir(), config.segmentSize()) : null;
        this.retention = new Retention(config.retention(), budget);
        this.reader = new StreamReader(log, table, tail, new StreamFiles(config.streamsDir(), 1, 1, config.io()), splitter::requestRebuild,
                retention);
        this.allReader = new AllReader(log, reader);
        // Before the writer starts: the table is still this thread's, and every append is checked.
        retention.load(table.snapshot(), reader);
        writer.setGate(retention);
        if (so.enabled()) {
            writer.setRateLimit(splitter.throttle()::bytesPerSecond);
        }
        this.compactor = new StreamCompactor(retention, config.retention(), new StreamCompactor.Parts(log, table, tail,
                streamFiles, config.dataDir(), splitter::position, checkpointer::lastWrittenPosition, so.retainMillis(),
                so.retainBytes()));
        splitter.setBetweenWindows(compactor::betweenWindows);
        splitter.setVisibility(retention);
        compactor.onDamage(splitter::requestRebuild);
        // Before the writer thread starts: on a standby it applies shipped frames instead of appends.
        this.replication = replicationOptions == null ? null : io.ringstore.replication.Replication.create(replicationOptions,
                new io.ringstore.replication.StandbyApplier.Parts(log, table, tail, checkpointer, writer, config.io(),
                        config.dataDir(), retention::shipped));
        // The replica ack modes wait on what the standbys report to this board's replication.
        if (replication != null && config.ackMode() != io.ringstore.replication.AckMode.LOCAL) {
            writer.setReplicaProgress(replication.progress());
        }
        this.writerThread = Thread.ofPlatform().name("ringstore-writer").unstarted(writer);
        Runnable releaser = writer.ackReleaser();
        this.ackThread = releaser == null ? null : Thread.ofPlatform().name("ringstore-ack-releaser").unstarted(releaser);
        if (ackThread != null) {
            ackThread.start();
        }
        this.checkpointThread = Thread.ofPlatform().name("ringstore-checkpointer").daemon().unstarted(checkpointer);
        this.splitterThread = so.enabled()
                ? Thread.ofPlatform().name("ringstore-splitter").daemon().unstarted(() -> {
                    lowerPriority(so.nice());
                    splitter.run();
                }) : null;
        checkpointThread.start();
        writerThread.start();
        if (splitterThread != null) {
            splitterThread.start();
        }
        if (replication != null) {
            try {
                replication.start();
            } catch (IOException | RuntimeException e) {
                closeQuietlyAfterFailedStart();
                throw e;
            }
        }
    }

    private void closeQuietlyAfterFailedStart() {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            Logger.warn("closing after a failed replication start failed: {}", e.toString());
        }
    }

    /**
     * Opens the store: locks the folder, loads the stream-table checkpoint, recovers the log tail.
     *
     * @throws DataDirLock.LockedException when another store has the folder
     * @throws io.ringstore.log.CorruptLogException when acknowledged history is damaged (and repair is off)
     */
    public static RingStore open(StoreConfig config) throws IOException {
        return open(config, null);
    }

    /**
     * Opens the store as one board of a replicated pair ({@code replication} null: alone). A
     * standby refuses appends (NOT_PRIMARY) and serves reads from the primary's shipped log.
     */
    public static RingStore open(StoreConfig config, io.ringstore.replication.ReplicationOptions replication)
            throws IOException {
        // Crash window: a first start that created these folders and was cut before their
        // parents were forced would come back without them (and without what was written in
        // them): each new folder's parent is forced before anything is written inside. After
        // these two calls, the data folder and log/, checkpoint/ and streams/ are durable names.
        config.io().createDirectoriesDurably(config.dataDir());
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        try {
            config.io().createDirectoriesDurably(config.logDir(), config.checkpointDir(), config.streamsDir());
            FilesystemCheck.check(config);
            // A cut the last run asked for (its log went past where its epoch ended on the new
            // primary): made before anything reads the log; the stream files are cut below.
            io.ringstore.replication.DivergentTail.Pending divergence = replication == null ? null
                    : io.ringstore.replication.DivergentTail.pending(config.dataDir());
            if (divergence != null) {
                io.ringstore.replication.DivergentTail.completePending(config, divergence);
            }
            boolean standbyLog = replication != null
                    && io.ringstore.replication.Replication.effectiveRole(replication, config.dataDir())
                    == io.ringstore.replication.Role.STANDBY;
            // Crash window: a killed run can have renamed a checkpoint into place and died before
            // forcing the folder; it exists only in the page cache. The splitter reclaims log
            // segments below the loaded checkpoints, so a power cut after this start would bring
            // back an older checkpoint whose records are gone. Before this force the loaded
            // checkpoints may be page-cache only; after it, they are what a cut leaves.
            config.io().forceDirectory(config.checkpointDir());
            StreamTableCheckpoint.removeTemp(config.io(), config.checkpointDir());
            if (config.repair() && StreamTableCheckpoint.remove(config.io(), config.checkpointDir())) {
                // Repair scans the whole log: damage below the checkpoint position is otherwise
                // never seen by recovery (readers would keep refusing it), and a cut would leave
                // the checkpoint describing records that no longer exist.
                // Crash window: the checkpoint is gone (folder forced) before recovery cuts
                // anything, so a crash during or after the repair leaves a folder that the next
                // start scans from the log start.
                Logger.warn("repair: removed the stream-table checkpoint, scanning the whole log dir={}",
                        config.checkpointDir());
            }
            StreamTableCheckpoint.Loaded checkpoint = null;
            try {
                checkpoint = StreamTableCheckpoint.read(config.checkpointDir());
            } catch (IOException e) {
                Logger.warn("ignoring damaged stream-table checkpoint, scanning the whole log: {}", e.getMessage());
            }
            StreamTable table = checkpoint != null ? checkpoint.table() : new StreamTable();
            long tablePosition = checkpoint != null ? checkpoint.position() : 0;
            long splitPosition;
            try {
                splitPosition = SplitterCheckpoint.read(config.checkpointDir());
            } catch (IOException e) {
                Logger.warn("{}; re-splitting from the start of the log (stream files skip what they hold)", e.getMessage());
                splitPosition = 0;
            }
            // The scan covers the unsplit tail (for the tail index) and what the table
            // checkpoint does not (for the table): both bounded, neither grows with history.
            long scanFrom = Math.min(tablePosition, splitPosition);
            int window = config.writer().idempotencyWindow();
            ArrayDeque<RecentEventIds.Entry> ids = new ArrayDeque<>();
            if (checkpoint != null) {
                ids.addAll(checkpoint.recentIds());
            }
            TailIndex tail = new TailIndex(config.splitter().windowBytes());
            long[] anomalies = new long[1];
            long[] one = new long[1];
            long splitFrom = splitPosition;
            MainLog.Opened opened = MainLog.open(config.logDir(), config.io(), config.segmentSize(), config.repair(),
                    scanFrom, Math.max(tablePosition, splitPosition), standbyLog, record -> {
                        String stream = record.getStream();
                        if (record.getPosition() >= splitFrom) {
                            one[0] = record.getPosition();
                            tail.add(stream, record.getVersion(), one, 1,
                                    io.ringstore.log.RecordFrame.frameLength(record.getSerializedSize()));
                        }
                        if (record.getPosition() < tablePosition) {
                            return;
                        }
                        if (record.getVersion() != table.version(stream) + 1) {
                            anomalies[0]++;
                        }
                        table.put(stream, record.getVersion(), record.getPosition());
                        if (window > 0) {
                            ids.addLast(new RecentEventIds.Entry(record.getEventId().toByteArray(), stream,
                                    record.getVersion(), record.getPosition()));
                            if (ids.size() > window) {
                                ids.removeFirst();
                            }
                        }
                    });
            if (anomalies[0] > 0) {
                Logger.warn("recovery saw {} records whose version did not follow the stream table", anomalies[0]);
            }
            Logger.info(opened.report().summary() + " streams=" + table.size() + " unsplitEvents=" + tail.events());
            long end = opened.log().writePosition();
            if (splitPosition > end) {
                // Only after a repair cut the log below what the splitter had reached.
                splitPosition = end;
            }
            if (config.repair() || divergence != null) {
                StreamFiles.cutToTable(config.streamsDir(), config.io(), table::version);
            }
            if (divergence != null) {
                io.ringstore.replication.DivergentTail.clearPending(config.io(), config.dataDir());
            }
            return new RingStore(config, lock, opened.log(), table, tail, opened.report(), List.copyOf(ids),
                    tablePosition, splitPosition, replication);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Queues an append; the future completes when it is acknowledged (after the force, by default). */
    public CompletableFuture<AppendResult> append(String stream, ExpectedVersion expected, List<EventData> events) {
        RingStoreException notPrimary = notPrimary();
        if (notPrimary != null) {
            return CompletableFuture.failedFuture(notPrimary);
        }
        AppendRequest request;
        try {
            request = new AppendRequest(stream, expected, events);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        writer.submit(request);
        return request.result();
    }

    /**
     * Appends to several streams with one queue entry, so that they usually share one force (a
     * multi-stream append). Each entry is its own append, checked against its own expected
     * version; one entry's refusal fails only its future. The futures are in {@code appends}'
     * order.
     */
    public List<CompletableFuture<AppendResult>> appendAll(List<io.ringstore.writer.StreamAppend> appends) {
        List<CompletableFuture<AppendResult>> results = new java.util.ArrayList<>(appends.size());
        RingStoreException notPrimary = notPrimary();
        List<AppendRequest> queued = new java.util.ArrayList<>(appends.size());
        for (io.ringstore.writer.StreamAppend a : appends) {
            if (notPrimary != null) {
                results.add(CompletableFuture.failedFuture(notPrimary));
                continue;
            }
            try {
                AppendRequest request = new AppendRequest(a.stream(), a.expected(), a.events());
                queued.add(request);
                results.add(request.result());
            } catch (RuntimeException e) {
                results.add(CompletableFuture.failedFuture(e));
            }
        }
        writer.submitAll(queued);
        return results;
    }

    /**
     * Sets a stream's retention limits (stored as metadata in the log; see
     * {@link io.ringstore.retention.StreamMetadata}). The future completes when the change is
     * acknowledged like an append; reads obey it from then on.
     */
    public CompletableFuture<AppendResult> setLimits(String stream, StreamLimits limits) {
        return submit(() -> retention.setLimits(stream, limits));
    }

    /**
     * Deletes a stream: soft (versions so far are hidden and reclaimed; it may be written again,
     * versions go on) or hard (a tombstone: reads and appends get STREAM_DELETED for good).
     */
    public CompletableFuture<AppendResult> deleteStream(String stream, boolean hard) {
        return deleteStream(stream, hard, ExpectedVersion.ANY);
    }

    /** A delete that happens only if the stream's last version is what {@code expected} says. */
    public CompletableFuture<AppendResult> deleteStream(String stream, boolean hard, ExpectedVersion expected) {
        return submit(() -> hard ? retention.hardDelete(stream, expected) : retention.softDelete(stream, expected));
    }

    /** NOT_PRIMARY when this board is a standby or a fenced primary; null when it takes appends. */
    private RingStoreException notPrimary() {
        return replication == null ? null : replication.appendRefusal();
    }

    private CompletableFuture<AppendResult> submit(java.util.function.Supplier<AppendRequest> make) {
        RingStoreException notPrimary = notPrimary();
        if (notPrimary != null) {
            return CompletableFuture.failedFuture(notPrimary);
        }
        AppendRequest request;
        try {
            request = make.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        writer.submit(request);
        return request.result();
    }

    /**
     * Plugs log shipping into a store whose ack mode is a replica mode: from now on a batch is
     * acknowledged (and committed: made readable) once {@code progress} says the standbys hold
     * it. Until this is called, or after {@code null}, no standby holds anything: appends wait
     * {@code replica_ack_timeout_ms}, then fail with REPLICA_UNAVAILABLE. Any thread, any time.
     *
     * @throws IllegalStateException when the store's ack mode is local
     */
    public void setReplicaProgress(io.ringstore.replication.ReplicaProgress progress) {
        writer.setReplicaProgress(progress);
    }

    /**
     * The operator's {@code ringstore replication solo} (true) or {@code paired} (false) for a
     * replica-mode store: solo acknowledges appends as local without the standbys. Recorded in
     * the journal with {@code who}; not kept across a restart (a store always starts paired).
     *
     * @return whether it changed anything
     * @throws IllegalStateException when the store's ack mode is local
     */
    public boolean setSolo(boolean solo, String who) {
        String managed = replication == null ? null : replication.groupManaged();
        if (managed != null) {
            // A failover group decides the in-sync set: acknowledging alone behind its back would
            // let it promote a standby that lacks what this board acknowledged.
            throw RingStoreException.invalid("replication " + (solo ? "solo" : "paired") + " refused: " + managed);
        }
        return writer.setSolo(solo, who);
    }

    /**
     * A failover group's lease (io.ringstore.failover): every batch is acknowledged only while
     * it is open, in every ack mode; null removes it.
     */
    public void setAckGate(io.ringstore.writer.AckGate gate) {
        writer.setAckGate(gate);
    }

    /** Batches failed with NO_QUORUM (no valid lease from the failover group) since the store opened. */
    public long noQuorumFailures() {
        return writer.noQuorumFailures();
    }

    /** How appends are acknowledged now (mode, solo, what waits for the standbys and why). */
    public io.ringstore.writer.AckStatus ackStatus() {
        return writer.ackStatus();
    }

    /**
     * Log shipping's view of the main log: records up to the published position (written whole,
     * never taken back; in a replica mode, ahead of the committed position). See
     * {@link MainLog#readPublished}, {@link MainLog#readBodyPublished}, {@link MainLog#awaitPublishedBeyond}.
     */
    public MainLog log() {
        return log;
    }

    /** See {@link Writer#setAckScope}: the socket server batches its answers per writer batch. */
    public void setAckScope(Writer.AckScope scope) {
        writer.setAckScope(scope);
    }

    /** Retention's view of limits (own, prefix, effective) and the disk budget. */
    public Retention retention() {
        return retention;
    }

    public StreamCompactor compactor() {
        return compactor;
    }

    /**
     * Reads a page of the {@code $all} order from {@code position}, on the calling thread: the
     * events a stream read would return now (retention limits applied, {@code $$} metadata
     * events included), at most {@code maxCount}; see {@link AllReader} for how a page of hidden
     * events still moves on.
     */
    public AllSlice readAll(long position, int maxCount) {
        return allReader.read(position, maxCount);
    }

    /**
     * Reads records of the main log from {@code position} as stored, including events past a
     * stream's limits that retention has not reclaimed yet (for resume checks and tools).
     */
    public MainLog.ReadBatch readLog(long position, int maxCount) {
        return log.read(position, maxCount);
    }

    public long committedPosition() {
        return log.committedPosition();
    }

    /**
     * Reads one stream from {@code fromVersion} (for a backward read, -1 means from the end), up
     * to {@code maxCount} events, on the calling thread.
     *
     * @throws RingStoreException STREAM_NOT_FOUND when the stream has never been written
     */
    public StreamSlice readStream(String stream, long fromVersion, int maxCount, Direction direction) {
        return reader.read(stream, fromVersion, maxCount, direction);
    }

    /**
     * A forward read of one stream that hands each event to {@code sink} as its stored bytes
     * (see {@link StreamReader#readForward}): what the socket answers whole-stream reads with.
     */
    public StreamReader.PageEnd readStreamForward(String stream, long fromVersion, int maxCount,
                                                  StreamReader.BodySink sink) {
        return reader.readForward(stream, fromVersion, maxCount, sink);
    }

    /** Waits until something is committed beyond {@code position} (or the timeout); returns the committed position. */
    public long awaitCommittedBeyond(long position, long timeoutMillis) throws InterruptedException {
        return log.awaitCommittedBeyond(position, timeoutMillis);
    }

    /** Ends the waits of {@link #awaitCommittedBeyond} under way now (a subscription is being stopped). */
    public void wakeCommitWaiters() {
        log.wakeCommitWaiters();
    }

    /**
     * How the store is doing. Safe on any thread at any time: once {@link #close} has begun
     * unmapping the log, it is the store's last status, taken as it closed (splitter STOPPED).
     */
    public StoreStatus status() {
        synchronized (statusLock) {
            StoreStatus last = closedStatus;
            return last != null ? last : liveStatus();
        }
    }

    private StoreStatus liveStatus() {
        return new StoreStatus(log.committedPosition(), log.oldestPosition(), log.segmentFiles().size(), log.rolls(),
                log.rollsRecycled(),
                table.size(), writer.stats(), liveSplitterStatus(), writer.ackStatus(),
                replication == null ? null : replication.summary());
    }

    /** The splitter's state and lag; after close, as it was when the store closed. */
    public SplitterStatus splitterStatus() {
        synchronized (statusLock) {
            StoreStatus last = closedStatus;
            return last != null ? last.splitter() : liveSplitterStatus();
        }
    }

    private SplitterStatus liveSplitterStatus() {
        SplitterStatus s = splitter.status();
        return splitterThread == null ? new SplitterStatus(SplitterState.STOPPED, s.position(), s.lagEvents(),
                s.lagBytes(), s.lagSeconds(), s.windows(), s.eventsSplit(), 0, false, s.lastFailure(), s.lostVersions()) : s;
    }

    /** When the writer's loop last came round (for the watchdog). */
    public long writerHeartbeatNanos() {
        return writer.heartbeatNanos();
    }

    /** The splitter, for status listeners (LEDs) and tests. */
    public Splitter splitter() {
        return splitter;
    }

    public RecoveryReport recovery() {
        return recovery;
    }

    public WriterStats writerStats() {
        return writer.stats();
    }

    public StoreConfig config() {
        return config;
    }

    /** This board's replication (role, epoch, standbys, promotion); null when not configured. */
    public io.ringstore.replication.Replication replication() {
        return replication;
    }

    /**
     * What the standbys hold, for the writer's replica ack modes; null when replication is not
     * configured. The positions it compares with are the log's written position
     * ({@link MainLog#writtenPosition}, published before each force) and the batch's end.
     */
    /** On a standby, how far its reads are behind what the primary acknowledged (log bytes); -1 otherwise. */
    public long standbyBehindBytes() {
        return replication == null ? -1 : replication.behindPrimary(log.committedPosition());
    }

    public io.ringstore.replication.ReplicaProgress replicaProgress() {
        return replication == null ? null : replication.progress();
    }

    /**
     * Makes this standby the primary in a new epoch (see {@link io.ringstore.replication.Replication#promote}).
     *
     * @throws RingStoreException INVALID_REQUEST when replication is not configured, this board is
     *         already primary, or promotion is not safe and not forced
     */
    public io.ringstore.replication.Replication.Promoted promote(boolean force) throws IOException {
        if (replication == null) {
            throw RingStoreException.invalid("replication is not configured on this board");
        }
        return replication.promote(force);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (replication != null) {
            // The network first: no more shipped frames, no more standbys waiting on us.
            replication.close();
        }
        writer.stop();
        try {
            writerThread.join();
            if (ackThread != null) {
                // Releases what still waits for the standbys, each batch up to its own deadline.
                ackThread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (splitterThread != null) {
            try {
                splitter.drainAndStop(STOP_DRAIN_MILLIS);
                splitterThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        splitter.stop();
        compactor.stop();
        checkpointer.stop();
        try {
            checkpointThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Clean stop: the writer forced everything; a checkpoint at the end makes the next start scan nothing.
        // At the committed position: on a standby the table holds only what the primary had
        // acknowledged (records held past it are fed on the next start's scan); on a primary
        // the two are the same after a clean stop.
        if (!log.hasUnforcedBytes()) {
            checkpointer.writeNow(Math.min(log.writePosition(), log.committedPosition()), table.snapshot(),
                    writer.recentIdsAfterStop());
        }
        synchronized (statusLock) {
            // From here the log's segments are gone: status() answers with this last look.
            closedStatus = liveStatus();
            log.close();
        }
        lock.close();
        Logger.info("store closed: position={}", log.writePosition());
    }

    /** Lowers the calling thread's priority by {@code by} nice levels (see SplitterOptions#DEFAULT_NICE); best effort. */
    private static void lowerPriority(int by) {
        if (by == 0) {
            return;
        }
        try {
            int errno = io.ringstore.nativeio.Posix.raiseThreadNice(by);
            if (errno != 0) {
                Logger.warn("could not lower the priority of thread={} by={} errno={}", Thread.currentThread().getName(),
                        by, errno);
            }
        } catch (IOException | RuntimeException e) {
            Logger.warn("could not lower the priority of thread={}: {}", Thread.currentThread().getName(), e.toString());
        }
    }
}
