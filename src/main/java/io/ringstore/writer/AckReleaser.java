package io.ringstore.writer;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.ReplicaProgress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * The replica ack modes' completion step, on its own thread ({@code ringstore-ack-releaser}):
 * the writer hands it each written batch and goes on writing the next ones (pipelining); this
 * thread waits until the standbys hold the batch ({@link ReplicaProgress#awaitHeld}), then
 * commits it (readers see it from then on) and acknowledges its appends, batch after batch in
 * the order written. So the writer never waits on the network, and the committed position never
 * passes what the standbys hold: no reader sees an event a failover could take back.
 *
 * <p>No silent fallback: a batch the standbys do not hold within the timeout fails with
 * REPLICA_UNAVAILABLE (its appends stay in this board's log, uncommitted, and become readable
 * once a standby holds them); status, the journal and the fault LED say why. Only the operator
 * makes the store acknowledge alone ({@link #setSolo}); a batch is then acknowledged as
 * {@link AckMode#LOCAL} once this board holds it as its durability setting says.
 *
 * <p>With a failover group ({@link AckGate}, the primary's lease) every batch, in any mode and
 * solo or not, is released only while the gate is open, checked right before the batch is
 * committed; a batch whose gate stays closed until its deadline fails with NO_QUORUM (in
 * ack_mode local the writer asks the same gate itself).
 *
 * <p>Only this thread commits and acknowledges in a replica-mode store (the socket server's
 * {@link Writer.AckScope} relies on one acknowledging thread). Stop path: after the writer has
 * stopped ({@link #writerStopped}), it releases what is still waiting (each batch up to its own
 * deadline) and ends.
 */
final class AckReleaser implements Runnable {
    /** How often a wait looks at the solo switch and the clock. */
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** Until log shipping plugs in its progress: no standby holds anything. */
    static final ReplicaProgress NO_STANDBY = new ReplicaProgress() {
        @Override
        public long held(AckMode mode) {
            return -1;
        }

        @Override
        public boolean awaitHeld(AckMode mode, long position, long timeoutNanos) throws InterruptedException {
            Thread.sleep(java.time.Duration.ofNanos(Math.max(0, timeoutNanos)));
            return false;
        }

        @Override
        public String lagReason() {
            return "no standby connected: log shipping is not running";
        }
    };

    /** One written batch waiting to be acknowledged. */
    record Waiting(Writer.Outcome[] outcomes, long end, AckMode mode, long handedNanos, long deadlineNanos) {}

    private final MainLog log;
    private final AckOptions options;
    private final Durability localDurability;
    private final Supplier<Writer.AckScope> scope;
    private final ArrayBlockingQueue<Waiting> queue;
    private volatile ReplicaProgress progress = NO_STANDBY;
    private volatile AckGate gate = AckGate.OPEN;
    private volatile long noQuorumFailures;
    private volatile boolean noQuorum;
    private volatile boolean solo;
    private volatile boolean writerStopped;
    private volatile Thread thread;

    // Published for status.
    /** When the batch being released was handed over; 0 when none waits. */
    private volatile long headHandedNanos;
    private volatile boolean unavailable;
    private volatile long timeouts;
    private volatile long ackedPosition = -1;
    private volatile String lastReason = "";

    AckReleaser(MainLog log, AckOptions options, Durability localDurability, Supplier<Writer.AckScope> scope) {
        this.log = log;
        this.options = options;
        this.localDurability = localDurability;
        this.scope = scope;
        this.queue = new ArrayBlockingQueue<>(options.maxWaitingBatches());
    }

    void setProgress(ReplicaProgress p) {
        this.progress = p == null ? NO_STANDBY : p;
        wake();
    }

    ReplicaProgress progress() {
        return progress;
    }

    void setGate(AckGate g) {
        this.gate = g == null ? AckGate.OPEN : g;
        wake();
    }

    /** Batches failed with NO_QUORUM since start. */
    long noQuorumFailures() {
        return noQuorumFailures;
    }

    boolean solo() {
        return solo;
    }

    /** The operator's command; returns whether it changed anything. Recorded in the journal. */
    boolean setSolo(boolean on, String who) {
        if (solo == on) {
            return false;
        }
        solo = on;
        if (on) {
            Logger.warn("replication solo: appends are acknowledged by this board alone (ack=local) until "
                    + "`ringstore replication paired`; standbys no longer required: configured={} by={} waiting_batches={}",
                    options.mode().configName(), who, queue.size() + (headHandedNanos != 0 ? 1 : 0));
        } else {
            Logger.warn("replication paired: appends are acknowledged once the standbys hold them again: ack={} by={}",
                    options.mode().configName(), who);
        }
        wake();
        return true;
    }

    /**
     * Writer thread: queues a written batch, waiting for room while {@code maxWaitingBatches}
     * wait already ({@code whileWaiting} runs every slice, so the writer's heartbeat goes on).
     */
    void hand(Writer.Outcome[] outcomes, long end, AckMode mode, Runnable whileWaiting) throws InterruptedException {
        long now = System.nanoTime();
        Waiting w = new Waiting(outcomes, end, mode, now, now + TimeUnit.MILLISECONDS.toNanos(options.timeoutMillis()));
        try {
            while (!queue.offer(w, 100, TimeUnit.MILLISECONDS)) {
                whileWaiting.run();
            }
        } catch (InterruptedException e) {
            // Nobody interrupts the writer in normal operation; if someone does, no future of
            // this batch may be left hanging.
            for (Writer.Outcome o : outcomes) {
                o.request.result.completeExceptionally(o.error != null ? o.error
                        : new RingStoreException(ErrorCode.SHUTTING_DOWN, "writer interrupted: the append is in this "
                                + "board's log but was not acknowledged: stream=" + o.result.stream() + " last_version="
                                + o.result.lastVersion()));
            }
            throw e;
        }
    }

    /** Writer thread, as it ends: nothing more will be handed over. */
    void writerStopped() {
        writerStopped = true;
        wake();
    }

    private void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (true) {
                Waiting w = queue.poll(100, TimeUnit.MILLISECONDS);
                if (w == null) {
                    if (writerStopped && queue.isEmpty()) {
                        return;
                    }
                    continue;
                }
                headHandedNanos = w.handedNanos();
                try {
                    release(w);
                } finally {
                    headHandedNanos = 0;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failRest(new RingStoreException(ErrorCode.SHUTTING_DOWN, "store is shutting down"));
        } catch (RuntimeException | Error e) {
            // A bug (ours or the progress implementation's): nothing more can be acknowledged safely.
            Logger.error(e, "ack releaser stopped by an unexpected failure; replica acknowledgements stop until restart");
            failRest(new RingStoreException(ErrorCode.STORAGE_ERROR, "ack releaser failed: " + e));
            throw e;
        }
    }

    private void failRest(RingStoreException error) {
        Waiting w;
        while ((w = queue.poll()) != null) {
            for (Writer.Outcome o : w.outcomes()) {
                o.request.result.completeExceptionally(o.error != null ? o.error : error);
            }
        }
    }

    /** Waits until {@code w} may be acknowledged (or its time is up), then commits and answers it. */
    private void release(Waiting w) throws InterruptedException {
        while (true) {
            boolean isSolo = solo;
            if (w.mode() != AckMode.LOCAL && !isSolo) {
                ReplicaProgress p = progress;
                long left = w.deadlineNanos() - System.nanoTime();
                if (held(p, w, left)) {
                    if (unavailable) {
                        unavailable = false;
                        Logger.info("standbys hold the log again, replica acknowledgements resume: ack={} position={}",
                                w.mode().configName(), w.end());
                    }
                    if (gateOpens(w)) {
                        acknowledge(w, w.mode(), false);
                    }
                    return;
                }
                if (solo) {
                    continue;
                }
                if (System.nanoTime() - w.deadlineNanos() >= 0) {
                    timedOut(w, reason(p));
                    return;
                }
                continue;
            }
            // Acknowledged by this board alone: once it holds the batch as its durability says
            // (a batch written for a replica mode was not forced; the writer forces in the
            // background, and every batch it writes while solo under sync durability).
            if (localDurability == Durability.SYNC && log.durablePosition() < w.end()) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
                continue;
            }
            if (gateOpens(w)) {
                acknowledge(w, AckMode.LOCAL, isSolo || w.mode() == AckMode.LOCAL);
            }
            return;
        }
    }

    /**
     * Whether the standbys hold {@code w}, waiting at most a slice of the {@code left} nanos. A
     * progress implementation that throws counts as holding nothing (logged once per kind): a
     * bug there must turn into REPLICA_UNAVAILABLE answers, never into a dead acknowledging
     * thread and appends that hang.
     */
    private boolean held(ReplicaProgress p, Waiting w, long left) throws InterruptedException {
        try {
            return p.held(w.mode()) >= w.end() || (left > 0 && p.awaitHeld(w.mode(), w.end(), Math.min(left, SLICE_NANOS)));
        } catch (RuntimeException e) {
            progressFailed(e);
            if (left > 0) {
                LockSupport.parkNanos(this, Math.min(left, SLICE_NANOS));
            }
            return false;
        }
    }

    private String reason(ReplicaProgress p) {
        try {
            return p.lagReason();
        } catch (RuntimeException e) {
            progressFailed(e);
            return "replica progress failed: " + e;
        }
    }

    private volatile String lastProgressFailure = "";

    private void progressFailed(RuntimeException e) {
        if (!e.toString().equals(lastProgressFailure)) {
            lastProgressFailure = e.toString();
            Logger.error(e, "replica progress failed; treated as no standby holding anything");
        }
    }

    /**
     * Right before {@code w} is committed and answered: whether the gate (a failover group's
     * lease) is open, waiting for it until the batch's deadline; past it the batch fails with
     * NO_QUORUM and this returns false.
     *
     * <p>The window that remains: the gate is open when checked here, and the answers go out
     * after it (commit, completing the futures, then the connection's thread encoding and
     * writing them to the socket). A pause in that stretch (a GC pause, the board's CPU starved,
     * a socket buffer full) can put an answer on the wire after the lease ended. The lease's
     * margin ({@code lease_margin_ms}, in the new primary's wait W) is what covers it: a pause
     * longer than that margin between this check and the write is the one way a deposed
     * primary's acknowledgement can overlap the new primary's first one.
     */
    private boolean gateOpens(Waiting w) throws InterruptedException {
        AckGate g = gate;
        while (!g.open()) {
            long left = w.deadlineNanos() - System.nanoTime();
            if (left <= 0) {
                noQuorum(w, g.closedReason());
                return false;
            }
            g.awaitOpen(Math.min(left, SLICE_NANOS));
            g = gate;
        }
        if (noQuorum) {
            noQuorum = false;
            Logger.info("the failover group names this board primary again (lease valid): acknowledgements resume "
                    + "position={}", w.end());
        }
        return true;
    }

    private void noQuorum(Waiting w, String reason) {
        noQuorumFailures++;
        if (!noQuorum) {
            noQuorum = true;
            Logger.error("this board holds no valid lease from the failover group: appends fail with NO_QUORUM "
                    + "position={} waited_ms={} reason={}", w.end(), options.timeoutMillis(), reason);
        }
        Writer.AckScope s = scope.get();
        s.begin();
        try {
            for (Writer.Outcome o : w.outcomes()) {
                if (o.error != null) {
                    o.request.result.completeExceptionally(o.error);
                    continue;
                }
                o.request.result.completeExceptionally(Writer.noQuorum(o.result, options.timeoutMillis(), reason));
            }
        } finally {
            s.end();
        }
    }

    private void acknowledge(Waiting w, AckMode mode, boolean asSolo) {
        // Commit first: whoever sees an ack finds the events in a read.
        if (w.end() > log.committedPosition()) {
            log.commit(w.end());
        }
        ackedPosition = w.end();
        Durability applied = Writer.durabilityFor(mode, localDurability);
        Writer.AckScope s = scope.get();
        s.begin();
        try {
            for (Writer.Outcome o : w.outcomes()) {
                if (o.error != null) {
                    o.request.result.completeExceptionally(o.error);
                } else {
                    o.request.result.complete(o.result.withAck(mode, asSolo, applied));
                }
            }
        } finally {
            s.end();
        }
    }

    /**
     * The standbys did not hold {@code w} in time: its appends fail with REPLICA_UNAVAILABLE.
     * They stay written in this board's log and uncommitted (readers do not see them) until a
     * standby holds them or the operator goes solo; the error says so.
     */
    private void timedOut(Waiting w, String reason) {
        timeouts++;
        lastReason = reason == null || reason.isEmpty() ? "standbys do not hold the log" : reason;
        if (!unavailable) {
            unavailable = true;
            Logger.error("standbys do not hold the log, appends fail with REPLICA_UNAVAILABLE (no silent fallback; "
                    + "`ringstore replication solo` acknowledges alone): ack={} position={} waited_ms={} reason={}",
                    w.mode().configName(), w.end(), options.timeoutMillis(), lastReason);
        }
        Writer.AckScope s = scope.get();
        s.begin();
        try {
            for (Writer.Outcome o : w.outcomes()) {
                if (o.error != null) {
                    o.request.result.completeExceptionally(o.error);
                    continue;
                }
                AppendResult r = o.result;
                o.request.result.completeExceptionally(new RingStoreException(ErrorCode.REPLICA_UNAVAILABLE,
                        "not acknowledged: the standbys did not hold this append within " + options.timeoutMillis()
                                + " ms (ack=" + w.mode().configName() + ", reason: " + lastReason + "); it IS in this "
                                + "board's log, not yet readable: stream=" + r.stream() + " first_version="
                                + r.firstVersion() + " last_version=" + r.lastVersion() + " last_position="
                                + r.lastPosition() + "; readers see it once a standby holds it or the operator runs "
                                + "`ringstore replication solo`; retry with the same event ids to learn its fate"));
            }
        } finally {
            s.end();
        }
    }

    /**
     * What status shows.
     *
     * @param nowNanos System.nanoTime() now
     */
    AckStatus status(long nowNanos) {
        long head = headHandedNanos;
        int waiting = queue.size() + (head != 0 ? 1 : 0);
        long waitedMillis = head == 0 ? 0 : Math.max(0, (nowNanos - head) / 1_000_000);
        boolean isSolo = solo;
        String reason = "";
        if (!isSolo && (waitedMillis > 0 || unavailable)) {
            String r = reason(progress);
            reason = r == null || r.isEmpty() ? lastReason : r;
        }
        return new AckStatus(options.mode(), isSolo, waiting, waitedMillis, reason, unavailable && !isSolo, timeouts,
                ackedPosition);
    }
}
