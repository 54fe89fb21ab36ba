package io.ringstore.writer;

import com.google.protobuf.CodedOutputStream;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.log.MainLog;
import io.ringstore.log.RecordFrame;
import io.ringstore.nativeio.NoSpaceException;
import io.ringstore.read.TailIndex;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.ReplicaProgress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.tinylog.Logger;

/**
 * The one thread that appends to the main log. Group commit in one loop: take whatever appends
 * are queued, check each against the stream table, write their frames, force once, then
 * acknowledge them all.
 *
 * <p>Exception policy: an I/O failure fails the appends it touched with a typed error
 * (STORAGE_FULL, STORAGE_ERROR) and the loop goes on, so the store stays readable and resumes by
 * itself when the cause goes away. Nothing is acknowledged that was not forced (in SYNC mode).
 * A RuntimeException from our own code is a bug: it fails the batch, is logged, and stops the
 * writer rather than limping on with a table that may no longer match the log.
 *
 * <p>Ack modes ({@link AckOptions}): in {@link AckMode#LOCAL} the writer commits and acknowledges
 * each batch itself, as above. In a replica mode it writes (and, in replica-durable, forces) the
 * batch, publishes it for log shipping ({@link MainLog#publish}) and hands it to its
 * {@link AckReleaser}, which commits and acknowledges once the standbys hold it; meanwhile the
 * writer goes on with the next batches. Replica-memory does not force per batch (the card's
 * fsync leaves the ack path): the writer forces in the background every force interval, and at
 * stop.
 */
public final class Writer implements Runnable {
    private static final int FORCE_SAMPLES = 1024;

    private final MainLog log;
    private final StreamTable table;
    private final TailIndex tailIndex;
    private final WriterOptions options;
    private final RollListener rollListener;
    private final ArrayBlockingQueue<AppendRequest> queue;
    private final RecentEventIds recentIds;
    /** Null in a local store: then nothing about acknowledgements differs from before ack modes. */
    private final AckReleaser releaser;
    /** Retention's say on each append (tombstones, disk budget); {@link AppendGate#OPEN} without retention. */
    private volatile AppendGate gate = AppendGate.OPEN;
    private volatile java.util.function.LongSupplier rateLimit = () -> 0;
    private volatile AckScope ackScope = AckScope.NONE;
    /** A failover group's lease; {@link AckGate#OPEN} without a group. */
    private volatile AckGate ackGate = AckGate.OPEN;
    private volatile long localNoQuorumFailures;
    /** When the writer may take its next batch while held to a rate (see {@link #setRateLimit}). */
    private long throttledUntilNanos;
    private volatile long throttledNanos;
    private final ReentrantReadWriteLock stopLock = new ReentrantReadWriteLock();
    private volatile boolean stopping;
    private volatile boolean stopped;

    // Writer-thread state.
    private final List<AppendRequest> batch = new ArrayList<>();
    /** What one drain of the queue took, before groups are expanded into the batch. */
    private final List<AppendRequest> drained = new ArrayList<>();
    private final List<Outcome> outcomes = new ArrayList<>();
    private final byte[] head = new byte[64];
    private long lastForceNanos = System.nanoTime();

    // Published counters.
    private volatile long batches;
    private volatile long events;
    private volatile long payloadBytes;
    private volatile long forces;
    private final long[] forceMicros = new long[FORCE_SAMPLES];
    /** Forces timed so far; a long, so that it cannot wrap into a negative ring index on a long-lived board. */
    private volatile long forceSampleCount;
    private volatile boolean storageFull;
    private volatile long heartbeatNanos = System.nanoTime();
    private volatile String lastError;
    private volatile long lastErrorNanos;

    public Writer(MainLog log, StreamTable table, TailIndex tailIndex, WriterOptions options, RollListener rollListener) {
        this.log = log;
        this.table = table;
        this.tailIndex = tailIndex;
        this.options = options;
        this.rollListener = rollListener;
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.recentIds = new RecentEventIds(options.idempotencyWindow());
        this.releaser = options.ack().replica()
                ? new AckReleaser(log, options.ack(), options.durability(), () -> ackScope) : null;
    }

    /**
     * The completion step of a replica-mode store, to run on its own thread (started and joined
     * by the store around the writer's); null in a local store.
     */
    public Runnable ackReleaser() {
        return releaser;
    }

    /**
     * Gives a replica-mode store what the standbys hold (log shipping calls this once it runs;
     * until then, and after {@code null}, no standby holds anything and appends wait, then fail
     * with REPLICA_UNAVAILABLE).
     *
     * @throws IllegalStateException in a local store, which has no use for it
     */
    public void setReplicaProgress(ReplicaProgress progress) {
        requireReplica("a replica progress");
        releaser.setProgress(progress);
    }

    /**
     * The operator's switch ({@code ringstore replication solo|paired}): solo acknowledges a
     * replica-mode store's appends as local, without the standbys; paired requires them again.
     * Recorded in the journal with {@code who}. Returns whether it changed anything.
     *
     * @throws IllegalStateException in a local store
     */
    public boolean setSolo(boolean solo, String who) {
        requireReplica("solo or paired");
        return releaser.setSolo(solo, who);
    }

    /**
     * A failover group's lease: from now on a batch is committed and acknowledged only while
     * {@code gate} is open (asked right before; waits bounded by replica_ack_timeout_ms, then
     * NO_QUORUM), in every ack mode. Null: no gate.
     */
    public void setAckGate(AckGate gate) {
        AckGate g = gate == null ? AckGate.OPEN : gate;
        ackGate = g;
        if (releaser != null) {
            releaser.setGate(g);
        }
    }

    /** Batches failed with NO_QUORUM since start (a closed {@link AckGate}). */
    public long noQuorumFailures() {
        return localNoQuorumFailures + (releaser == null ? 0 : releaser.noQuorumFailures());
    }

    /** The NO_QUORUM error of one written, unacknowledged append. */
    static RingStoreException noQuorum(AppendResult r, long waitedMillis, String reason) {
        return new RingStoreException(ErrorCode.NO_QUORUM, "not acknowledged: this board could not show within "
                + waitedMillis + " ms that the failover group still names it primary (" + reason + "); it IS in this "
                + "board's log, not yet readable: stream=" + r.stream() + " first_version=" + r.firstVersion()
                + " last_version=" + r.lastVersion() + " last_position=" + r.lastPosition() + "; retry with the same "
                + "event ids (on the primary the group names) to learn its fate");
    }

    private void requireReplica(String what) {
        if (releaser == null) {
            throw new IllegalStateException("ack_mode is local: " + what + " has no meaning for this store");
        }
    }

    /** How appends are acknowledged now. */
    public AckStatus ackStatus() {
        return releaser == null ? AckStatus.LOCAL : releaser.status(System.nanoTime());
    }

    /** What an acknowledgement in {@code mode} says of this board's own copy. */
    static Durability durabilityFor(AckMode mode, Durability local) {
        return switch (mode) {
            case LOCAL -> local;
            case REPLICA_MEMORY -> Durability.PERIODIC;
            case REPLICA_DURABLE -> Durability.SYNC;
        };
    }

    /** The mode the next batch is written for: the configured one, or local while solo. */
    private AckMode modeNow() {
        return releaser == null || releaser.solo() ? AckMode.LOCAL : options.ack().mode();
    }

    /** Whether a batch written for {@code mode} is forced before it is handed on. */
    private boolean forcesEachBatch(AckMode mode) {
        return durabilityFor(mode, options.durability()) == Durability.SYNC;
    }

    /**
     * A limit on how fast the writer appends, in log bytes a second (0: none), asked after each
     * batch. The splitter sets it while its lag is past its bound (see
     * {@code split.WriterThrottle}): a batch's bytes are paid for by waiting before the next one,
     * and what arrives meanwhile joins that next batch, so a held writer forces less often.
     */
    public void setRateLimit(java.util.function.LongSupplier bytesPerSecond) {
        this.rateLimit = bytesPerSecond;
    }

    /**
     * Brackets each batch's acknowledgements on the writer thread: {@link #begin} before the first
     * future of a batch is completed, {@link #end} after the last. What the futures' callbacks
     * start in between (answers to clients) can wait for the end and go out together.
     */
    public interface AckScope {
        AckScope NONE = new AckScope() {
            @Override
            public void begin() {}

            @Override
            public void end() {}
        };

        void begin();

        void end();
    }

    /**
     * What the writer thread does instead of appending while this board is a standby: it applies
     * the primary's shipped frames to the same log, stream table and tail index, so that one
     * thread still owns every write to the log (see {@code io.ringstore.replication}).
     */
    public interface Follow {
        /** One turn: waits briefly (at most ~100 ms) for shipped frames and applies them. */
        void step() throws IOException, InterruptedException;

        /** Leaving standby (promotion), on the writer thread: everything held becomes history, forced. */
        void finish() throws IOException;
    }

    private volatile Follow follow;
    private volatile java.util.concurrent.CompletableFuture<Void> leaveFollow;

    /** Makes the writer thread follow a primary; set before the thread starts. */
    public void follow(Follow f) {
        this.follow = f;
    }

    /** Whether the writer is following a primary (a standby); appends are then refused. */
    public boolean following() {
        return follow != null;
    }

    /**
     * Asks the writer thread to stop following ({@link Follow#finish}) and take appends again;
     * completes once it does (exceptionally if finishing failed: the board stays a standby).
     */
    public java.util.concurrent.CompletableFuture<Void> stopFollowing() {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        if (follow == null) {
            done.complete(null);
            return done;
        }
        leaveFollow = done;
        return done;
    }

    /** One turn of the loop while following; false when the writer should stop. */
    private boolean followTurn(Follow f) throws InterruptedException {
        if (stopping) {
            return false;
        }
        java.util.concurrent.CompletableFuture<Void> leave = leaveFollow;
        if (leave != null) {
            leaveFollow = null;
            try {
                f.finish();
                follow = null;
                leave.complete(null);
            } catch (IOException | RuntimeException e) {
                Logger.error("leaving standby failed, still a standby: error={}", e.toString());
                leave.completeExceptionally(e);
            }
            return true;
        }
        // Appends are refused before they are queued; any that raced a role change are answered here.
        List<AppendRequest> raced = new ArrayList<>();
        drainQueue(raced, Integer.MAX_VALUE);
        failAll(raced, new RingStoreException(ErrorCode.NOT_PRIMARY, "this board is a standby"));
        try {
            f.step();
        } catch (IOException e) {
            lastError = e.toString();
            lastErrorNanos = System.nanoTime();
            Logger.error("applying shipped frames failed: error={}", e.toString());
            Thread.sleep(100);
        }
        return true;
    }

    /** Sets the scope around each batch's acknowledgements; null for none. */
    public void setAckScope(AckScope scope) {
        this.ackScope = scope == null ? AckScope.NONE : scope;
    }

    /** Lets retention refuse appends (deleted streams, disk budget); set before the first append. */
    public void setGate(AppendGate gate) {
        this.gate = gate;
    }

    /** Remembers an event id found by recovery, so retries across a restart stay idempotent. */
    public void rememberRecovered(byte[] eventId, String stream, long version, long position) {
        if (options.idempotencyWindow() > 0) {
            recentIds.put(eventId, stream, version, position);
        }
    }

    /**
     * Queues an append, waiting up to the submit timeout for room (backpressure).
     * The request's future fails with OVERLOADED or SHUTTING_DOWN when it cannot be queued.
     */
    public void submit(AppendRequest request) {
        request.group = null;
        enqueue(request);
    }

    /**
     * Queues several appends as one queue element, so that the writer takes them into one batch
     * (one force), in this order: a multi-stream append. Each keeps its own future; when they
     * cannot be queued, every one fails as {@link #submit} says.
     */
    public void submitAll(List<AppendRequest> requests) {
        if (requests.isEmpty()) {
            return;
        }
        AppendRequest first = requests.getFirst();
        first.group = requests.size() == 1 ? null : requests.subList(1, requests.size()).toArray(new AppendRequest[0]);
        enqueue(first);
    }

    /** Adds {@code r} and the appends queued with it, in order. */
    private static void addWithGroup(List<AppendRequest> out, AppendRequest r) {
        out.add(r);
        if (r.group != null) {
            out.addAll(Arrays.asList(r.group));
        }
    }

    /** Takes what is queued (groups expanded, the stop signal left out) into {@code out}. */
    private void drainQueue(List<AppendRequest> out, int max) {
        queue.drainTo(drained, max);
        for (AppendRequest r : drained) {
            if (r != STOP_SIGNAL) {
                addWithGroup(out, r);
            }
        }
        drained.clear();
    }

    private void enqueue(AppendRequest request) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.submitTimeoutMillis());
        while (true) {
            ReentrantReadWriteLock.ReadLock lock = stopLock.readLock();
            lock.lock();
            try {
                if (stopping) {
                    failWithGroup(request, new RingStoreException(ErrorCode.SHUTTING_DOWN, "store is shutting down"));
                    return;
                }
                if (queue.offer(request, 10, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failWithGroup(request, new RingStoreException(ErrorCode.SHUTTING_DOWN, "interrupted"));
                return;
            } finally {
                lock.unlock();
            }
            if (System.nanoTime() > deadline) {
                failWithGroup(request, new RingStoreException(ErrorCode.OVERLOADED,
                        "writer queue full: capacity=" + options.queueCapacity()));
                return;
            }
        }
    }

    /** Asks the loop to finish what is queued and stop; new appends are refused from now on. */
    public void stop() {
        stopLock.writeLock().lock();
        try {
            stopping = true;
        } finally {
            stopLock.writeLock().unlock();
        }
        // An idle writer waits in poll for up to 100 ms; this wakes it at once (a full queue
        // needs no wake-up: the writer is busy and sees the flag after the batch).
        queue.offer(STOP_SIGNAL);
    }

    /** Put on the queue by {@link #stop()}; never processed, never answered. */
    private static final AppendRequest STOP_SIGNAL = new AppendRequest("writer-stop-signal", ExpectedVersion.ANY,
            List.of(EventData.of("stop", new byte[0])));

    /** When the loop last came round: a force that hangs stops this, and with it the watchdog. */
    public long heartbeatNanos() {
        return heartbeatNanos;
    }

    public boolean isStopped() {
        return stopped;
    }

    @Override
    public void run() {
        try {
            while (true) {
                heartbeatNanos = System.nanoTime();
                Follow f = follow;
                if (f != null) {
                    if (!followTurn(f)) {
                        break;
                    }
                    continue;
                }
                AppendRequest first = queue.poll(pollMillis(), TimeUnit.MILLISECONDS);
                if (first == null || first == STOP_SIGNAL) {
                    if (stopping) {
                        break;
                    }
                    forceIfDue();
                    continue;
                }
                addWithGroup(batch, first);
                drainQueue(batch, options.maxBatch() - 1);
                gather();
                long before = log.writePosition();
                processBatch();
                batch.clear();
                forceIfDue();
                holdToRate(log.writePosition() - before);
            }
            finalForce();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            Logger.error(e, "writer stopped by an unexpected failure; appends are refused until restart");
            lastError = String.valueOf(e);
            lastErrorNanos = System.nanoTime();
            failAll(batch, new RingStoreException(ErrorCode.STORAGE_ERROR, "writer failed: " + e));
            stopping = true;
        } finally {
            if (releaser != null) {
                // After the final force: what it still releases as local is durable.
                releaser.writerStopped();
            }
            stopped = true;
            List<AppendRequest> rest = new ArrayList<>();
            drainQueue(rest, Integer.MAX_VALUE);
            failAll(rest, new RingStoreException(ErrorCode.SHUTTING_DOWN, "store is shutting down"));
        }
    }

    /** Requests in each of the last batches (see {@link #gather}). */
    private final int[] recentBatchRequests = new int[GATHER_HISTORY];
    private int recentBatchIndex;
    /** How long the last force took (0: none yet). */
    private long lastForceTookNanos;
    /** Batches whose sizes {@link #gather} remembers. */
    static final int GATHER_HISTORY = 16;
    /** A batch with this many requests is not held back: it amortises its force already. */
    static final int GATHER_UP_TO = 32;

    /**
     * Group commit with blocking clients. Clients that each wait for their answer before they
     * send again come back at slightly different moments, and the writer, which forces as soon
     * as it has something, forces for the first few while the rest arrive; those wait for a
     * whole force more. So when fewer requests are queued than the last {@value #GATHER_HISTORY}
     * batches held (at most {@value #GATHER_UP_TO}), the writer waits for the rest, at most
     * {@code gatherMicros} and half the last force's time. A lone client, whose batches hold one
     * request, never waits; neither does a busy pipelined one, whose batches are large. Only
     * where each batch is forced (durability sync, ack_mode local). Measured (bench, 8 blocking
     * producers): 4.6 events per force became 7.0, 10% more appends/s through the socket at 8% less CPU
     * per event; at 32 in flight nothing changes.
     */
    private void gather() throws InterruptedException {
        int want = 0;
        for (int n : recentBatchRequests) {
            want = Math.max(want, n);
        }
        want = Math.min(want, Math.min(GATHER_UP_TO, options.maxBatch()));
        long limit = Math.min(TimeUnit.MICROSECONDS.toNanos(options.gatherMicros()), lastForceTookNanos / 2);
        if (batch.size() < want && limit > 0 && releaser == null && options.durability() == Durability.SYNC) {
            long deadline = System.nanoTime() + limit;
            while (batch.size() < want && !stopping) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                AppendRequest next = queue.poll(left, TimeUnit.NANOSECONDS);
                if (next == null) {
                    break;
                }
                if (next != STOP_SIGNAL) {
                    addWithGroup(batch, next);
                }
                drainQueue(batch, options.maxBatch() - batch.size());
            }
        }
        recentBatchRequests[recentBatchIndex] = batch.size();
        recentBatchIndex = (recentBatchIndex + 1) % GATHER_HISTORY;
    }

    /** Waits out what {@code bytes} cost under the rate limit, if one is set (not while stopping). */
    private void holdToRate(long bytes) throws InterruptedException {
        long limit = rateLimit.getAsLong();
        long now = System.nanoTime();
        if (limit <= 0 || stopping || bytes <= 0) {
            throttledUntilNanos = now;
            return;
        }
        // Positions run on across segments: a batch over a roll also pays for the old segment's
        // unused end (less than one record), which is harmless.
        long cost = (long) (bytes * 1e9 / limit);
        // Debt older than a second is forgiven: a burst after a long wait is not paid for twice.
        throttledUntilNanos = Math.max(throttledUntilNanos, now - 1_000_000_000L) + cost;
        long wait = Math.min(throttledUntilNanos - now, 100_000_000L); // the heartbeat goes on
        if (wait > 0) {
            Thread.sleep(java.time.Duration.ofNanos(wait));
            throttledNanos += wait;
        }
    }

    private long pollMillis() {
        // A replica-mode store forces in the background (see forceIfDue) whatever its mode now.
        return options.durability() == Durability.PERIODIC || releaser != null
                ? Math.max(1, options.forceIntervalMillis() / 2) : 100;
    }

    private void processBatch() throws InterruptedException {
        outcomes.clear();
        long batchStart = log.writePosition();
        AckMode mode = releaser == null ? AckMode.LOCAL : modeNow();
        for (AppendRequest request : batch) {
            outcomes.add(process(request));
        }
        boolean wrote = outcomes.stream().anyMatch(o -> o.wrote);
        // Before the force: log shipping sends the batch to the standbys while this board forces it.
        log.publishWritten();
        if (wrote || log.hasUnforcedBytes()) {
            if (releaser == null ? options.durability() == Durability.SYNC : forcesEachBatch(mode)) {
                try {
                    timedForce();
                } catch (IOException e) {
                    forceFailed(e, batchStart);
                    release(mode);
                    return;
                }
            }
        }
        // Counters first: whoever sees an ack also sees the commit counted (status, LEDs).
        long n = 0;
        for (Outcome o : outcomes) {
            if (o.error == null && o.wrote) {
                n += o.request.events.size();
            }
        }
        events += n;
        batches++;
        release(mode);
    }

    /**
     * Local store: commits and acknowledges the batch now. Replica-mode store: publishes it for
     * log shipping and hands it to the ack releaser, which commits and acknowledges it once the
     * standbys hold it (the writer goes on meanwhile).
     */
    private void release(AckMode mode) throws InterruptedException {
        if (releaser == null) {
            if (!localGateOpens()) {
                return;
            }
            // The window left between this check and the answers' socket writes: see AckReleaser#gateOpens.
            log.commit(log.writePosition());
            acknowledge();
            return;
        }
        long end = log.writePosition();
        log.publish(end);
        releaser.hand(outcomes.toArray(new Outcome[0]), end, mode, () -> heartbeatNanos = System.nanoTime());
    }

    /**
     * Ack_mode local with a failover group: the lease must be valid right before the batch is
     * committed; the writer waits for it (its heartbeat going on) until replica_ack_timeout_ms,
     * then fails the batch with NO_QUORUM (written, uncommitted: the next acknowledged batch's
     * commit makes it readable). Nothing else can be acknowledged meanwhile anyway.
     */
    private boolean localGateOpens() throws InterruptedException {
        AckGate g = ackGate;
        if (g.open()) {
            return true;
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(options.ack().timeoutMillis());
        while (!g.open()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                localNoQuorumFailures++;
                String reason = g.closedReason();
                org.tinylog.Logger.error("this board holds no valid lease from the failover group: appends fail with "
                        + "NO_QUORUM reason={}", reason);
                AckScope scope = ackScope;
                scope.begin();
                try {
                    for (Outcome o : outcomes) {
                        o.request.result.completeExceptionally(o.error != null ? o.error
                                : noQuorum(o.result, options.ack().timeoutMillis(), reason));
                    }
                } finally {
                    scope.end();
                }
                return false;
            }
            g.awaitOpen(Math.min(left, 20_000_000L));
            heartbeatNanos = System.nanoTime();
        }
        return true;
    }

    /** Completes every outcome's future, inside the ack scope. */
    private void acknowledge() {
        AckScope scope = ackScope;
        scope.begin();
        try {
            for (Outcome o : outcomes) {
                if (o.error != null) {
                    o.request.result.completeExceptionally(o.error);
                } else {
                    o.request.result.complete(o.result);
                }
            }
        } finally {
            scope.end();
        }
    }

    /** Checks, encodes and writes one append; the result is only released after the force. */
    private Outcome process(AppendRequest r) {
        long current = table.version(r.stream);
        Outcome replay = replayIfRetry(r, current);
        if (replay != null) {
            return replay;
        }
        // Retention (issue 8): tombstones and the disk budget refuse here, before anything is written.
        RingStoreException refused = r.change == null ? gate.refuse(r.stream) : gate.refuseChange(r.change.target());
        if (refused != null) {
            return Outcome.failed(r, refused);
        }
        if (!r.expected.matches(current)) {
            return Outcome.failed(r, new WrongExpectedVersionException(r.stream, r.expected.toString(), current));
        }
        if (r.change != null) {
            try {
                r.encoded[0] = io.ringstore.log.proto.LogRecord.newBuilder().setStream(r.stream)
                        .setEventId(com.google.protobuf.ByteString.copyFrom(r.eventIds[0]))
                        .setType(r.events.getFirst().type())
                        .setData(com.google.protobuf.ByteString.copyFrom(r.change.data(table.version(r.change.target()))))
                        .build().toByteArray();
            } catch (RingStoreException e) {
                return Outcome.failed(r, e);
            }
        }
        long frameBytes = 0;
        for (byte[] e : r.encoded) {
            if (e.length + head.length > options.maxEventBytes()) {
                return Outcome.failed(r, new RingStoreException(ErrorCode.FRAME_TOO_LARGE,
                        "event too large: stream=" + r.stream + " bytes=" + e.length + " max=" + options.maxEventBytes()));
            }
            frameBytes += RecordFrame.frameLength(e.length + head.length);
        }
        if (frameBytes > log.maxBodyLength()) {
            return Outcome.failed(r, new RingStoreException(ErrorCode.FRAME_TOO_LARGE,
                    "append larger than a segment: stream=" + r.stream + " bytes=" + frameBytes));
        }
        long start = -1;
        try {
            if (!log.fits(frameBytes)) {
                roll();
            }
            start = log.writePosition();
            long timestamp = nowMicros();
            long firstPosition = -1;
            long lastPosition = -1;
            long[] positions = new long[r.encoded.length];
            for (int i = 0; i < r.encoded.length; i++) {
                long version = current + 1 + i;
                long position = log.writePosition();
                int headLength = encodeHead(position, version, log.durablePosition(), timestamp);
                log.append(head, headLength, r.encoded[i]);
                if (i == 0) {
                    firstPosition = position;
                }
                lastPosition = position;
                positions[i] = position;
                payloadBytes += RecordFrame.frameLength(headLength + r.encoded[i].length);
            }
            long previousPosition = table.lastPosition(r.stream);
            long lastVersion = current + r.encoded.length;
            table.put(r.stream, lastVersion, lastPosition);
            // Before the ack, so that a read started after it finds these events.
            tailIndex.add(r.stream, current + 1, positions, positions.length, log.writePosition() - start);
            if (r.change != null) {
                r.change.applied();
            }
            if (r.clientIds && options.idempotencyWindow() > 0) {
                for (int i = 0; i < r.eventIds.length; i++) {
                    recentIds.put(r.eventIds[i], r.stream, current + 1 + i, positions[i]);
                }
            }
            AppendResult result = new AppendResult(r.stream, current + 1, lastVersion, firstPosition, lastPosition,
                    options.durability(), false, AckMode.LOCAL, false);
            return Outcome.written(r, result, current, previousPosition);
        } catch (NoSpaceException e) {
            return Outcome.failed(r, new RingStoreException(ErrorCode.STORAGE_FULL,
                    "storage full: no room for a new log segment (" + e.getMessage() + ")"));
        } catch (IOException e) {
            if (start >= 0) {
                // Some of this append's frames may be in the mapping: zero them, or their
                // versions would be written again by the next append to this stream.
                log.discardFrom(start);
            }
            lastError = e.toString();
            lastErrorNanos = System.nanoTime();
            Logger.error("append failed: stream={} error={}", r.stream, e.toString());
            return Outcome.failed(r, new RingStoreException(ErrorCode.STORAGE_ERROR, "storage error: " + e.getMessage(), e));
        }
    }

    private void roll() throws IOException {
        try {
            log.roll(System.currentTimeMillis());
        } catch (NoSpaceException e) {
            if (!storageFull) {
                storageFull = true;
                Logger.error("storage full: cannot allocate a new log segment, appends are refused until space is freed ({})",
                        e.getMessage());
            }
            throw e;
        }
        if (storageFull) {
            storageFull = false;
            Logger.info("storage space available again, appends resume");
        }
        rollListener.rolled(log.writePosition(), table.snapshot(), recentIds.snapshot());
    }

    /**
     * Recognises a retry of an earlier append (same client event ids) and returns its original
     * result; null when this is not a retry.
     */
    private Outcome replayIfRetry(AppendRequest r, long current) {
        if (!r.anyClientIds || options.idempotencyWindow() == 0) {
            return null;
        }
        RecentEventIds.Written[] found = new RecentEventIds.Written[r.eventIds.length];
        int hits = 0;
        for (int i = 0; i < r.eventIds.length; i++) {
            if (r.events.get(i).eventId() != null && (found[i] = recentIds.get(r.eventIds[i])) != null) {
                hits++;
            }
        }
        if (hits == 0) {
            return null;
        }
        RecentEventIds.Written first = found[0];
        boolean whole = hits == found.length;
        for (int i = 0; whole && i < found.length; i++) {
            whole = found[i].stream().equals(r.stream) && found[i].version() == first.version() + i;
        }
        if (!whole) {
            RecentEventIds.Written any = first != null ? first : java.util.Arrays.stream(found)
                    .filter(java.util.Objects::nonNull).findFirst().orElseThrow();
            return Outcome.failed(r, new RingStoreException(ErrorCode.EVENT_ID_CONFLICT, "event ids were already used by an earlier append "
                    + "that this one does not repeat exactly: stream=" + any.stream() + " version=" + any.version()));
        }
        if (!r.expected.matchesOriginal(first.version())) {
            return Outcome.failed(r, new WrongExpectedVersionException(r.stream, r.expected.toString(), current));
        }
        AppendResult result = new AppendResult(r.stream, first.version(), first.version() + found.length - 1,
                first.position(), found[found.length - 1].position(), options.durability(), true, AckMode.LOCAL, false);
        return Outcome.replayed(r, result);
    }

    private int encodeHead(long position, long version, long durableBefore, long timestampMicros) throws IOException {
        CodedOutputStream out = CodedOutputStream.newInstance(head);
        out.writeUInt64(1, position);
        out.writeUInt64(2, version);
        out.writeUInt64(3, durableBefore);
        out.writeInt64(9, timestampMicros);
        out.flush();
        return out.getTotalBytesWritten();
    }

    private static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private void timedForce() throws IOException {
        long start = System.nanoTime();
        log.force();
        long end = System.nanoTime();
        lastForceNanos = end;
        lastForceTookNanos = end - start;
        long micros = (end - start) / 1_000;
        long n = forceSampleCount;
        forceMicros[(int) (n % FORCE_SAMPLES)] = micros;
        forceSampleCount = n + 1; // publishes the sample (volatile write after the array store)
        forces++;
        if (micros / 1_000 >= options.slowForceMillis()) {
            Logger.warn("slow force: millis={} threshold={}", micros / 1_000, options.slowForceMillis());
        }
    }

    /**
     * The batch's force failed. Appends whose frames were already forced (by a segment roll in
     * this batch) succeed; the rest are undone in the table, zeroed in the log and failed; the
     * caller then releases the batch. Nothing before {@code batchStart} is undone: in a local
     * sync store that is all forced already; in a replica-mode store it may be earlier batches
     * written unforced (replica-memory, or before a switch to solo), published, possibly shipped
     * and waiting for their acknowledgement: those stay, and a later force retries them.
     */
    private void forceFailed(IOException e, long batchStart) {
        lastError = e.toString();
        lastErrorNanos = System.nanoTime();
        Logger.error("force failed, failing the batch: error={}", e.toString());
        long cut = Math.max(log.durablePosition(), batchStart);
        for (int i = outcomes.size() - 1; i >= 0; i--) {
            Outcome o = outcomes.get(i);
            if (o.error == null && o.result.lastPosition() >= cut) {
                if (o.wrote) {
                    undo(o);
                }
                o.error = new RingStoreException(ErrorCode.STORAGE_ERROR,
                        "storage error, append not acknowledged: " + e.getMessage(), e);
            }
        }
        log.discardFrom(cut);
    }

    private void undo(Outcome o) {
        AppendRequest r = o.request;
        tailIndex.truncateFrom(r.stream, o.result.firstVersion());
        if (r.change != null) {
            r.change.undone();
        }
        if (o.previousVersion < 0) {
            table.remove(r.stream);
        } else {
            table.put(r.stream, o.previousVersion, o.previousPosition);
        }
        if (r.clientIds) {
            for (byte[] id : r.eventIds) {
                recentIds.remove(id);
            }
        }
    }

    private void forceIfDue() {
        // A replica-mode store forces in the background in every mode: replica-memory has no
        // per-batch force, and a batch it wrote before a switch to solo waits for this one.
        if ((options.durability() != Durability.PERIODIC && releaser == null) || !log.hasUnforcedBytes()) {
            return;
        }
        if (System.nanoTime() - lastForceNanos < TimeUnit.MILLISECONDS.toNanos(options.forceIntervalMillis())) {
            return;
        }
        try {
            timedForce();
        } catch (IOException e) {
            // Acknowledged already (that is the mode's contract); keep the bytes and retry next time.
            lastError = e.toString();
            lastErrorNanos = System.nanoTime();
            lastForceNanos = System.nanoTime();
            Logger.error("periodic force failed, will retry: error={}", e.toString());
        }
    }

    private void finalForce() {
        if (!log.hasUnforcedBytes()) {
            return;
        }
        try {
            timedForce();
        } catch (IOException e) {
            lastError = e.toString();
            lastErrorNanos = System.nanoTime();
            Logger.error("final force at stop failed: error={}", e.toString());
        }
    }

    private static void failWithGroup(AppendRequest r, RingStoreException error) {
        List<AppendRequest> all = new ArrayList<>();
        addWithGroup(all, r);
        failAll(all, error);
    }

    private static void failAll(List<AppendRequest> requests, RingStoreException error) {
        for (AppendRequest r : requests) {
            r.result.completeExceptionally(error);
        }
    }

    /** The remembered event ids, on the writer thread (a standby's checkpoint at a roll). */
    public java.util.List<RecentEventIds.Entry> recentIdsOnWriterThread() {
        return recentIds.snapshot();
    }

    /** The remembered event ids; call only when the writer thread has stopped. */
    public java.util.List<RecentEventIds.Entry> recentIdsAfterStop() {
        if (!stopped) {
            throw new IllegalStateException("writer still running");
        }
        return recentIds.snapshot();
    }

    /**
     * Hands {@code sink} the latency (micros) of each force timed after the first {@code seen}
     * ones, oldest first (at most the last {@value #FORCE_SAMPLES}: older ones are gone), and
     * returns how many forces have been timed, to pass as {@code seen} next time. For one reader
     * (the splitter's pressure gauge) polling more often than the writer can force 1024 times.
     */
    public long forceLatenciesSince(long seen, java.util.function.LongConsumer sink) {
        long count = forceSampleCount;
        for (long i = Math.max(seen, count - FORCE_SAMPLES); i < count; i++) {
            sink.accept(forceMicros[(int) (i % FORCE_SAMPLES)]);
        }
        return count;
    }

    /** Appends waiting for the writer now (cheaper than {@link #stats()}, which sorts the force samples). */
    public int queueDepth() {
        return queue.size();
    }

    public WriterStats stats() {
        int n = (int) Math.min(forceSampleCount, FORCE_SAMPLES);
        long[] samples = Arrays.copyOf(forceMicros, n);
        Arrays.sort(samples);
        long p50 = n == 0 ? 0 : samples[(int) Math.min(n - 1, Math.floor(n * 0.50))];
        long p99 = n == 0 ? 0 : samples[(int) Math.min(n - 1, Math.floor(n * 0.99))];
        return new WriterStats(batches, events, payloadBytes, forces, p50, p99, queue.size(), options.queueCapacity(),
                storageFull || gate.storageFull(), lastError, lastErrorNanos, throttledNanos / 1_000_000);
    }

    /** One append's fate within a batch (the ack releaser completes it in a replica-mode store). */
    static final class Outcome {
        final AppendRequest request;
        AppendResult result;
        RingStoreException error;
        boolean wrote;
        long previousVersion;
        long previousPosition;

        private Outcome(AppendRequest request) {
            this.request = request;
        }

        static Outcome failed(AppendRequest r, RingStoreException error) {
            Outcome o = new Outcome(r);
            o.error = error;
            return o;
        }

        static Outcome replayed(AppendRequest r, AppendResult result) {
            Outcome o = new Outcome(r);
            o.result = result;
            return o;
        }

        static Outcome written(AppendRequest r, AppendResult result, long previousVersion, long previousPosition) {
            Outcome o = new Outcome(r);
            o.result = result;
            o.wrote = true;
            o.previousVersion = previousVersion;
            o.previousPosition = previousPosition;
            return o;
        }
    }
}
