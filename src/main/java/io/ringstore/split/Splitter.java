package io.ringstore.split;

import io.ringstore.log.MainLog;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.StreamVisibility;
import io.ringstore.read.TailIndex;
import java.io.IOException;
import java.nio.file.Path;
import io.ringstore.log.RecordFrame;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * The lazy splitter: moves each stream's events from the main log into that stream's file, a
 * stream at a time, once the stream has gathered enough of them to be worth one write (by
 * bytes) or its oldest unsplit event has waited long enough (by time). One pass moves every
 * stream that is ripe, one write per stream, then makes the files durable with one sync, then
 * trims the tail index, moves its checkpoint to the oldest event still unsplit and lets
 * retention reclaim log segments behind it.
 *
 * <p>Why per stream and not per window of the log: with thousands of streams a window of the
 * log holds about one event per stream, so splitting windows costs one small write (a whole
 * flash page) per event. Holding each stream until it has a page's worth turns that into one
 * write per page of payload, whatever the number of streams; the log keeps the events
 * meanwhile (retention never passes the oldest unsplit event) and readers find them there
 * through the tail index.
 *
 * <p>It backs off when the storage is busy (see {@link PressurePolicy}) and catches up when it
 * is calm. Past its lag bound it moves the oldest events first, just enough to get back under
 * the bound, even under pressure (at a limited duty cycle there).
 *
 * <p>Exception policy: an I/O error in a pass is logged, the pass is abandoned (nothing was
 * trimmed or checkpointed, so it is redone) and the splitter retries after a pause; the log and
 * its readers are unaffected. A write or sync error is never followed by a checkpoint that trusts
 * the failed writes: a failed write is cut back, and a failed sync rolls back every file written
 * since the last good one, so the retry writes those events anew (see {@link StreamFiles#syncAll}).
 * A stream file found damaged is rebuilt from its sound part and the log ({@link StreamFiles.Rebuild}).
 */
public final class Splitter implements Runnable {
    private static final long IDLE_POLL_MILLIS = 100;
    private static final long ERROR_BACKOFF_MILLIS = 1_000;
    /**
     * Log bytes one pass moves at most: bounds each burst of work, and the memory it holds
     * (about 800 KiB of positions at 256-byte events). Large enough that
     * {@link #MIN_EARLY_PASS_MILLIS}, not this cap, sets how often a busy store on a fast disk
     * syncs: a capped pass is followed by another at once.
     */
    static final long PASS_BYTES = 32L << 20;
    /**
     * The cap under I/O pressure, where passes run only past the lag bound and at a duty cycle,
     * and the least a calm pass may move: small bursts, so that a pass's sync holds the writer's
     * forces on a busy card for a short while only (4 MiB is about 0.4 s at an SD card's 10 MB/s).
     */
    static final long PRESSED_PASS_BYTES = 4L << 20;
    /**
     * A calm pass moves what this storage syncs in about this long (between
     * {@link #PRESSED_PASS_BYTES} and {@link #PASS_BYTES}, from the syncs of the passes so far):
     * a card's forces queue behind a pass's sync, so a card gets the small passes it always had,
     * a fast disk the large ones that write less. The sync alone is timed: a pass's copy is CPU
     * work (slow at the splitter's nice level on a busy CPU) that holds no device. Timing the
     * whole pass here made passes smaller than the cap on this 2-CPU machine, and the socket at
     * 8 x 32 lost 6-8% (three alternated pairs): more syncs, each a cache flush the writer's
     * forces wait behind.
     */
    static final long CALM_PASS_MILLIS = 250;
    /** Passes smaller than this are not measured: their sync's fixed cost would say "slow". */
    private static final long MEASURED_PASS_BYTES = 1L << 20;
    /** One stream's share of a pass at most (one write). */
    private static final long GROUP_BYTES = 1L << 20;
    /** A pass starts early once about this many bytes are ripe by size... */
    private static final long EARLY_PASS_BYTES = 1L << 20;
    /**
     * ...but no sooner than this after the last pass. Each pass ends in one {@code syncfs}, and
     * each sync writes the part-filled last page of every file it covers (written again by the
     * next sync that covers that file) and the inode and allocation blocks of each: with
     * thousands of streams, fewer and larger passes write less. Measured (bench, socket, 8 x 32,
     * 10,000 streams, in service, 2 CPUs, alternated): device bytes per payload byte 3.66 / 3.43
     * with a pass per ripe MiB and a 4 MiB cap, 3.14 / 3.14 with passes at most every 250 ms and
     * a 32 MiB cap, at 177-178k against 178-185k ev/s; at most every 500 ms 3.11 (172k ev/s), at
     * most every second (64 MiB cap) 3.19 / 3.20 but 151k ev/s. The pass size then follows the
     * append rate: a quarter of a second's appends, little on a card that takes a few MB/s,
     * what the cap allows on a fast disk.
     */
    static final long MIN_EARLY_PASS_MILLIS = 250;
    /** Forced progress past the lag bound aims this far under it, so it does not flap at the bound. */
    private static final double UNDER_BOUND = 0.9;

    /** What a pass moves. */
    private enum Mode {
        /** Streams with enough bytes or an old enough first event. */
        RIPE,
        /** Everything committed (asked for by {@link #drain()}). */
        DRAIN,
        /** Over the lag bound: the oldest events of every stream, just enough to get under it. */
        FORCED
    }

    private final MainLog log;
    private final StreamFiles files;
    private final TailIndex tail;
    private final StorageIo io;
    private final Path checkpointDir;
    private final SplitterOptions options;
    private final PressureGauge gauge;
    private final LongSupplier tableCheckpointPosition;
    private final List<Consumer<SplitterState>> listeners = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Rebuild> rebuilds = new ConcurrentLinkedQueue<>();
    private final Object sleeper = new Object();
    private final long tickMillis;

    private volatile boolean stopping;
    private volatile SplitterState state = SplitterState.RUNNING;
    private volatile long position;
    private volatile long drainTo = -1;
    /** A clean stop's drain is under way: pressure readings are ignored (see {@link #drainAndStop}). */
    private volatile boolean stopDraining;
    private volatile long windows;
    private volatile long eventsSplit;
    /** Log bytes moved to stream files since start (the throttle's measure of the pace). */
    private long bytesMoved;
    private long lastFailureNanos = System.nanoTime() - 60_000_000_000L;
    private final WriterThrottle throttle = new WriterThrottle();
    private volatile double lastLagSeconds;
    private volatile long heartbeatNanos = System.nanoTime();
    private volatile boolean woken = true;
    private long lastGaugeNanos;
    private boolean pressureHigh;
    private int calmReadings;
    private long lastErrorLogMillis;
    /** Why the last pass failed, until a pass works again (status, tests). */
    private volatile String lastFailure;
    private long lastPassMillis;
    private long signalsAtLastPass;
    private boolean lastPassCapped;
    private double lastLagRatio;
    /** How fast the recent passes of at least {@link #MEASURED_PASS_BYTES} synced (log bytes a second; 0: none yet). */
    private double passBytesPerSecond;

    private record Rebuild(String stream, CompletableFuture<Void> done) {}

    // --- retention hook (issue 8) ------------------------------------------------------------
    /** Work that must not race this thread's stream-file appends (retention's compactor). */
    public interface BetweenWindows {
        /** A bounded slice of work; {@code pressureHigh}: the storage is busy. */
        void run(boolean pressureHigh);
    }

    private volatile BetweenWindows betweenWindows;

    /** Runs {@code hook} on this thread between windows (set before the thread starts). */
    public void setBetweenWindows(BetweenWindows hook) {
        this.betweenWindows = hook;
    }
    // --- end retention hook ------------------------------------------------------------------

    /**
     * What retention's limits and deletes hide: a rebuild does not count versions below a
     * stream's first visible one as lost (retention dropped them from the file on purpose: a hard
     * delete removes it). Set before the thread starts; everything visible until then.
     */
    private volatile StreamVisibility visibility = StreamVisibility.ALL;

    public void setVisibility(StreamVisibility visibility) {
        this.visibility = visibility;
    }

    public Splitter(MainLog log, StreamFiles files, TailIndex tail, StorageIo io, Path checkpointDir,
                    SplitterOptions options, PressureGauge gauge, LongSupplier tableCheckpointPosition,
                    long startPosition) {
        this.log = log;
        this.files = files;
        this.tail = tail;
        this.io = io;
        this.checkpointDir = checkpointDir;
        this.options = options;
        this.gauge = gauge;
        this.tableCheckpointPosition = tableCheckpointPosition;
        this.position = startPosition;
        this.tickMillis = Math.clamp(options.windowMillis() / 10, 5, 1_000);
    }

    /** Called on every state change (on the splitter thread). */
    public void onStateChange(Consumer<SplitterState> listener) {
        listeners.add(listener);
    }

    public SplitterStatus status() {
        long committed = log.committedPosition();
        long lagBytes = Math.max(0, committed - Math.max(position, log.oldestPosition()));
        double lagSeconds = lagBytes == 0 ? 0 : lastLagSeconds;
        // A working splitter holds each stream for up to a window on purpose: only beyond
        // twice that is it behind.
        boolean lagging = lagSeconds * 1000 > 2.0 * options.windowMillis();
        return new SplitterStatus(state, position, tail.events(), lagBytes, lagSeconds, windows, eventsSplit,
                files.openFiles(), lagging, lastFailure, files.lostVersions());
    }

    /** When the loop last came round (a hung sync stops it). */
    public long heartbeatNanos() {
        return heartbeatNanos;
    }

    public long position() {
        return position;
    }

    /**
     * A clean stop: moves everything committed (within {@code budgetMillis}), so that the next
     * start has no unsplit tail to scan, then stops. Call after the writer has stopped, with the
     * splitter thread running. Pressure does not pause this drain: the gauge is a 10 s average
     * that, just after the writer stopped, mostly shows the store's own writing, and the drain is
     * bounded.
     */
    public void drainAndStop(long budgetMillis) throws InterruptedException {
        long target = log.committedPosition();
        if (position < target) {
            stopDraining = true;
            drain();
            long deadline = System.nanoTime() + budgetMillis * 1_000_000L;
            while (position < target && System.nanoTime() < deadline && state != SplitterState.STOPPED) {
                Thread.sleep(5);
            }
        }
        stop();
    }

    public void stop() {
        stopping = true;
        wake();
    }

    /** Wakes the splitter from a pause or wait early (new pressure readings are taken at once). */
    public void wake() {
        woken = true;
        synchronized (sleeper) {
            sleeper.notifyAll();
        }
    }

    /**
     * Asks the splitter to rebuild a stream's file from the log (a reader found it damaged).
     * Completes when done, or exceptionally when the log no longer holds the stream.
     */
    public CompletableFuture<Void> requestRebuild(String stream) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (stopping) {
            done.completeExceptionally(new IOException("splitter stopped"));
            return done;
        }
        rebuilds.add(new Rebuild(stream, done));
        wake();
        return done;
    }

    /**
     * Asks the splitter to move everything committed now, ripe or not (a benchmark measuring its
     * throughput, or an operator who wants the log free before maintenance). Pressure still
     * pauses it.
     */
    public void drain() {
        drainTo = log.committedPosition();
        wake();
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                heartbeatNanos = System.nanoTime();
                serveRebuilds();
                // PSI is a 10 s average: read the gauge every 100 ms, or at once when woken.
                long nowNanos = System.nanoTime();
                if (woken || nowNanos - lastGaugeNanos >= IDLE_POLL_MILLIS * 1_000_000) {
                    woken = false;
                    lastGaugeNanos = nowNanos;
                    updatePressure(gauge.read());
                }
                boolean pressure = pressureHigh && !stopDraining;
                BetweenWindows hook = betweenWindows; // retention hook (issue 8)
                if (hook != null) {
                    hook.run(pressure);
                }
                boolean over = overLimit();
                // A splitter that failed in the last seconds cannot catch up by being given time:
                // the writer is not held for it.
                throttle.update(lastLagRatio, bytesMoved, nowNanos - lastFailureNanos > 5_000_000_000L,
                        System.nanoTime());
                if (pressure && !over) {
                    setState(SplitterState.PAUSED_FOR_PRESSURE);
                    pause(IDLE_POLL_MILLIS);
                    continue;
                }
                try {
                    if (pressure) {
                        setState(SplitterState.OVER_LIMIT);
                        long started = System.nanoTime();
                        pass(Mode.FORCED, PRESSED_PASS_BYTES);
                        lastFailure = null;
                        long busyMillis = Math.max(1, (System.nanoTime() - started) / 1_000_000);
                        double duty = overLimitDuty();
                        pause((long) (busyMillis * (1 - duty) / duty));
                        continue;
                    }
                    Mode mode = over ? Mode.FORCED : drainTo > position ? Mode.DRAIN : Mode.RIPE;
                    if (mode == Mode.RIPE && !passDue()) {
                        if (state != SplitterState.CATCHING_UP) {
                            setState(SplitterState.RUNNING);
                        }
                        if (tableCheckpointPosition.getAsLong() != tableCheckpointAtReclaim) {
                            // The stream table's checkpoint moved (it does after each log roll):
                            // an older segment may now be past retention and safe. Reclaiming
                            // now, not at the next pass (up to a window away with many streams),
                            // keeps a spare ready for the next roll. The checkpoint first moves
                            // past what the roll left behind (the sealed segment's end), as a
                            // pass with nothing to move does.
                            advanceCheckpoint();
                            // Crash window: the checkpoint above is durable before reclaim
                            // renames or deletes anything; a cut between them leaves segments the
                            // next start's reclaim removes (MainLog.reclaim names its own windows).
                            reclaim();
                        }
                        pause(Math.min(tickMillis, 10));
                        continue;
                    }
                    // Behind: over the bound, more ripe work than one pass, asked to drain, or
                    // the oldest unsplit event past twice the window (after a long pause).
                    boolean backlog = over || lastPassCapped || mode == Mode.DRAIN
                            || lastLagSeconds * 1000 > 2.0 * options.windowMillis();
                    if (backlog && state != SplitterState.RUNNING) {
                        setState(SplitterState.CATCHING_UP);
                    } else if (!backlog) {
                        setState(SplitterState.RUNNING);
                    }
                    pass(mode, calmPassBytes());
                    lastFailure = null;
                    if (drainTo >= 0 && position >= drainTo) {
                        drainTo = -1;
                    }
                } catch (IOException | RuntimeException e) {
                    lastFailureNanos = System.nanoTime();
                    lastFailure = e.toString();
                    long now = System.currentTimeMillis();
                    if (now - lastErrorLogMillis > 60_000) {
                        lastErrorLogMillis = now;
                        Logger.error(e, "splitter pass failed, retrying (the log still holds every event)");
                    }
                    files.close();
                    pause(ERROR_BACKOFF_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Error e) {
            // Not a failed pass but a broken thread (out of memory, a fault in a mapped read):
            // say so loudly; STOPPED below lights the fault and the log still holds every event.
            lastFailure = e.toString();
            Logger.error(e, "splitter thread failed, splitting stopped (the log still holds every event)");
            throw e;
        } finally {
            setState(SplitterState.STOPPED); // first: a failing clean-up below must not hide the stop
            throttle.release();
            files.close();
            Rebuild r;
            while ((r = rebuilds.poll()) != null) {
                r.done().completeExceptionally(new IOException("splitter stopped"));
            }
        }
    }

    /**
     * Whether a pass of ripe streams is worth running now: enough streams crossed the ripe size
     * since the last one, or a tick passed (streams ripen by age), or the last one left work.
     */
    private boolean passDue() {
        if (lastPassCapped || !rebuilds.isEmpty()) {
            return true;
        }
        long earlySignals = Math.max(1, EARLY_PASS_BYTES / options.windowBytes());
        long sinceLastPass = System.currentTimeMillis() - lastPassMillis;
        return tail.ripeSignals() - signalsAtLastPass >= earlySignals && sinceLastPass >= MIN_EARLY_PASS_MILLIS
                || sinceLastPass >= tickMillis;
    }

    private void updatePressure(PressureReading r) {
        PressurePolicy p = options.pressure();
        if (p.high(r)) {
            pressureHigh = true;
            calmReadings = 0;
        } else if (pressureHigh) {
            calmReadings = p.low(r) ? calmReadings + 1 : 0;
            if (calmReadings >= p.calmReadings()) {
                pressureHigh = false;
            }
        }
    }

    private boolean overLimit() {
        lastLagRatio = lagRatio();
        return lastLagRatio > 1;
    }

    /** Holds the writer to the splitter's pace while the lag is past its bound (see {@link WriterThrottle}). */
    public WriterThrottle throttle() {
        return throttle;
    }

    /**
     * How far behind the splitter is, as a multiple of its bound (the largest of the bytes,
     * events and seconds ratios); above 1 it is over the limit.
     */
    private double lagRatio() {
        long lagBytes = log.committedPosition() - position;
        if (lagBytes <= 0) {
            lastLagSeconds = 0;
            return 0;
        }
        lastLagSeconds = oldestUnsplitAgeSeconds();
        return Math.max(Math.max((double) lagBytes / options.maxLagBytes(), (double) tail.events() / options.maxLagEvents()),
                lastLagSeconds / options.maxLagSeconds());
    }

    /**
     * Share of time spent splitting while over the limit under pressure: the configured duty at
     * the bound, growing with the square of the overshoot (full speed at twice the bound), so
     * that a writer faster than the base duty cannot push the lag up forever.
     */
    private double overLimitDuty() {
        double ratio = lagRatio();
        return Math.min(1.0, options.overLimitDuty() * ratio * ratio);
    }

    private double oldestUnsplitAgeSeconds() {
        try {
            MainLog.ReadBatch b = log.read(position, 1);
            if (b.records().isEmpty()) {
                return 0;
            }
            long micros = System.currentTimeMillis() * 1_000 - b.records().getFirst().getTimestampMicros();
            return Math.max(0, micros / 1e6);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private void setState(SplitterState s) {
        if (state != s) {
            SplitterState before = state;
            state = s;
            Logger.info("splitter {} -> {} (lag {} bytes, {} events)", before, s,
                    Math.max(0, log.committedPosition() - position), tail.events());
            for (Consumer<SplitterState> l : listeners) {
                l.accept(s);
            }
        }
    }

    private void pause(long millis) throws InterruptedException {
        if (millis <= 0 || stopping) {
            return;
        }
        synchronized (sleeper) {
            sleeper.wait(millis);
        }
    }

    /** The most a calm pass moves now (see {@link #CALM_PASS_MILLIS}). */
    long calmPassBytes() {
        double rate = passBytesPerSecond;
        return rate <= 0 ? PRESSED_PASS_BYTES
                : Math.clamp((long) (rate * CALM_PASS_MILLIS / 1000), PRESSED_PASS_BYTES, PASS_BYTES);
    }

    /**
     * Folds one pass's sync into {@link #passBytesPerSecond}. The sync alone is timed: it is what
     * holds the device (the copy before it is CPU and page cache).
     */
    private void learnSyncRate(long bytes, long syncNanos) {
        if (bytes >= MEASURED_PASS_BYTES) {
            double rate = bytes * 1e9 / Math.max(1, syncNanos);
            passBytesPerSecond = passBytesPerSecond <= 0 ? rate : 0.7 * passBytesPerSecond + 0.3 * rate;
        }
    }

    /** One stream's share of a pass: its versions {@code base..} at these log positions. */
    private record Move(String stream, long firstPosition, long base, long[] positions) {}

    /**
     * One pass: chooses the streams to move (by {@code mode}, about {@code passBytes} of log at
     * most), appends each one's events to its file with one write, syncs once, then trims the
     * tail index, checkpoints the oldest unsplit position and lets retention work behind it.
     */
    void pass(Mode mode, long passBytes) throws IOException {
        long committed = log.committedPosition();
        long now = System.currentTimeMillis();
        signalsAtLastPass = tail.ripeSignals();
        lastPassMillis = now;
        // Over the events bound (the tail index's memory), the streams holding the most events
        // go first, whole: each write then moves the most. Over the bytes or seconds bound (the
        // log kept, the age of the oldest event), the oldest events of every stream go first.
        long excessEvents = mode == Mode.FORCED
                ? tail.events() - (long) (UNDER_BOUND * options.maxLagEvents()) : 0;
        boolean byEvents = mode == Mode.FORCED && tail.events() > options.maxLagEvents();
        long limit = mode == Mode.FORCED && !byEvents ? forcedLimit(committed) : committed;
        List<TailIndex.Pending> chosen = new ArrayList<>();
        long[] chosenBytes = new long[1];
        long[] uncommitted = new long[1];
        // The oldest event of the streams this pass leaves alone: with the moved streams'
        // remainders, where the checkpoint can go afterwards (no second scan of the index).
        long[] oldest = {limit};
        tail.forEachPending(p -> {
            if (p.firstPosition() >= limit) {
                if (p.firstPosition() >= committed) {
                    uncommitted[0] += p.events(); // being forced now: not ours to count yet
                }
                return;
            }
            if (mode == Mode.RIPE && p.bytes() < options.windowBytes() && now - p.sinceMillis() < options.windowMillis()) {
                oldest[0] = Math.min(oldest[0], p.firstPosition());
                return;
            }
            chosen.add(p);
            chosenBytes[0] += p.bytes();
        });
        excessEvents -= uncommitted[0];
        boolean capped = false;
        if (byEvents) {
            chosen.sort(Comparator.comparingInt(TailIndex.Pending::events).reversed());
        } else if (chosenBytes[0] > passBytes) {
            // Oldest first, so that the checkpoint (and retention) move on.
            chosen.sort(Comparator.comparingLong(TailIndex.Pending::firstPosition));
        }
        List<Move> moves = new ArrayList<>();
        long planned = 0;
        long plannedEvents = 0;
        for (TailIndex.Pending p : chosen) {
            boolean enough = byEvents && plannedEvents >= excessEvents;
            boolean full = !enough && planned >= passBytes;
            capped |= full;
            TailIndex.Snapshot snap = enough || full ? null : tail.snapshot(p.stream(), limit);
            if (snap == null || snap.positions().length == 0) {
                oldest[0] = Math.min(oldest[0], p.firstPosition()); // chosen, but left for a later pass
                continue;
            }
            moves.add(new Move(p.stream(), snap.positions()[0], snap.base(), snap.positions()));
            planned += Math.min(p.bytes(), GROUP_BYTES);
            plannedEvents += snap.positions().length;
        }
        long events = 0;
        long movedBytes = 0;
        List<long[]> trims = new ArrayList<>(moves.size()); // {last version, bytes, events}
        for (Move m : moves) {
            long[] moved = copyToFile(m);
            trims.add(moved);
            movedBytes += moved[1];
            events += moved[2];
            capped |= moved[2] < m.positions().length;
        }
        lastPassCapped = capped;
        if (moves.isEmpty()) {
            // Nothing to move; the oldest unsplit position can still have moved on (past a
            // segment's seal), and a drain with nothing left is done.
            advanceCheckpoint();
            if (mode == Mode.DRAIN) {
                drainTo = -1;
            }
            return;
        }
        // Durable in stream files first; only then are readers sent to the files and may the
        // checkpoint pass these events.
        // Crash window: before this sync returns, every group of this pass (up to the calm cap,
        // 32 MiB of log on a fast disk) may be on disk whole, in part or not at all, in any
        // order; nothing durable refers to them yet (the checkpoint is the last pass's), so after
        // a restart the next touch of each file cuts it back to its sound part (checkTail) and
        // these events are split again from the log. After it they are durable, and the
        // checkpoint may pass them.
        long syncStarted = System.nanoTime();
        files.syncAll();
        learnSyncRate(movedBytes, System.nanoTime() - syncStarted);
        // Counted, and the checkpoint moved, before the trim: whoever sees the lag fall sees
        // these counted and the position moved (status, benchmarks).
        // Every event below the limit is now durable in its file, except those of streams not
        // moved (counted in the plan above) and the part of a moved stream beyond its group.
        // Streams written since the plan began start at or past the limit.
        for (int i = 0; i < moves.size(); i++) {
            Move m = moves.get(i);
            int n = (int) trims.get(i)[2];
            if (n < m.positions().length) {
                oldest[0] = Math.min(oldest[0], m.positions()[n]);
            }
        }
        // Crash window: the files are durable and the checkpoint not yet moved: the next start
        // re-reads these events from the old checkpoint and the copy skips what the files hold.
        moveCheckpoint(Math.max(oldest[0], position));
        windows++;
        eventsSplit += events; // after the checkpoint: a pass that failed there is redone, not counted twice
        for (int i = 0; i < moves.size(); i++) {
            tail.trimThrough(moves.get(i).stream(), trims.get(i)[0], trims.get(i)[1]);
        }
        bytesMoved += movedBytes;
        log.releaseBefore(position);
        reclaim();
    }

    private void moveCheckpoint(long oldest) throws IOException {
        if (oldest != position) {
            SplitterCheckpoint.write(io, checkpointDir, oldest);
            position = oldest;
        }
    }

    /** Moves the checkpoint to the oldest unsplit event, when that has moved. */
    private void advanceCheckpoint() throws IOException {
        moveCheckpoint(oldestUnsplitPosition());
    }

    /**
     * Where the oldest unsplit event is: every event below the returned position is durable in
     * its stream file. The committed position is read first: whatever is committed below it is
     * already in the tail index (the writer indexes before it commits).
     */
    private long oldestUnsplitPosition() {
        long committed = log.committedPosition();
        long[] oldest = {committed};
        tail.forEachPending(p -> oldest[0] = Math.min(oldest[0], p.firstPosition()));
        return Math.max(oldest[0], position);
    }

    /**
     * Over the bytes or seconds bound, the log position below which events are moved so that
     * both end a little under their bound; at least one ripe size past the oldest unsplit
     * event. Seconds are taken as spread evenly over the unsplit log: the next pass corrects
     * what that misjudges.
     */
    private long forcedLimit(long committed) {
        long low = position;
        long span = committed - low;
        if (span <= 0) {
            return committed;
        }
        double share = (span - UNDER_BOUND * options.maxLagBytes()) / span;
        double seconds = lastLagSeconds;
        if (seconds > 0) {
            share = Math.max(share, (seconds - UNDER_BOUND * options.maxLagSeconds()) / seconds);
        }
        long cut = low + Math.max(options.windowBytes(), (long) Math.ceil(Math.clamp(share, 0, 1) * span));
        return Math.min(committed, cut);
    }

    /**
     * Appends one stream's events (those the file does not hold yet) to its file with one write,
     * at most {@link #GROUP_BYTES} of them.
     *
     * @return {last version moved, log bytes moved, events moved}
     */
    private long[] copyToFile(Move m) throws IOException {
        String stream = m.stream();
        long fileLast;
        try {
            fileLast = files.lastVersion(stream);
        } catch (StreamFileException e) {
            // A warning: a power cut that caught a new file before its sync leaves this, and the
            // log still holds its events; the rebuild logs an error if it cannot keep every version.
            Logger.warn("stream file damaged, rebuilding it from the log: {}", e.getMessage());
            fileLast = rebuildFromLog(stream, m.firstPosition(), m.base() - 1);
        }
        if (m.base() > fileLast + 1) {
            // The file lacks versions that every earlier pass put there: it was damaged,
            // truncated or deleted behind our back. The log may still hold them.
            Logger.warn("stream file is missing versions {}..{}, rebuilding it from the log: stream={}",
                    fileLast + 1, m.base() - 1, stream);
            fileLast = rebuildFromLog(stream, m.firstPosition(), m.base() - 1);
        }
        if (fileLast >= m.base()) {
            fileLast = checkOverlap(m, fileLast);
        }
        long[] positions = m.positions();
        long bytes = 0;
        long newBytes = 0;
        int firstNewIndex = -1;
        int n = 0;
        while (n < positions.length && bytes < GROUP_BYTES) {
            long frame = RecordFrame.frameLength(log.bodyLengthAt(positions[n]));
            bytes += frame;
            // Idempotent re-split: versions the file already holds (after a restart) are skipped;
            // the ones it lacks are the tail of the run (versions ascend).
            if (m.base() + n > fileLast) {
                if (firstNewIndex < 0) {
                    firstNewIndex = n;
                }
                newBytes += frame;
            }
            n++;
        }
        if (firstNewIndex >= 0) {
            int from = firstNewIndex;
            // Each frame goes from the log's mapping into the group buffer in one copy, checked there.
            files.appendGroup(stream, n - from, newBytes, m.base() + from,
                    (i, out) -> log.copyFrameAt(positions[from + i], out));
        }
        return new long[] {m.base() + n - 1, bytes, n};
    }

    /**
     * Checks that versions the file already holds and the log's unsplit ones are the same records
     * before the copy skips them; returns the file's last version, after cutting it back if not.
     *
     * <p>Crash window: in {@code periodic} and {@code none} modes a power cut can take the log's
     * unforced tail while the stream file (synced by an earlier pass's syncfs, or its own force)
     * keeps those events; new appends then reuse their versions. Skipping "held" versions would
     * leave the file serving the lost events in place of the acknowledged new ones. The highest
     * overlapping version is enough to compare: the log loses a contiguous tail, so if any
     * overlapping version differs, the highest does.
     */
    private long checkOverlap(Move m, long fileLast) throws IOException {
        long last = Math.min(fileLast, m.base() + m.positions().length - 1);
        long inLog = m.positions()[(int) (last - m.base())];
        LogRecord logRecord = LogRecord.parseFrom(log.readBodyAt(inLog));
        LogRecord fileRecord = files.recordAt(m.stream(), last);
        // The same position is not enough: a new event the size of the lost one lands where it was.
        if (fileRecord != null && fileRecord.getPosition() == inLog
                && fileRecord.getEventId().equals(logRecord.getEventId())
                && fileRecord.getTimestampMicros() == logRecord.getTimestampMicros()) {
            return fileLast;
        }
        long fileFirst = fileRecord == null ? files.firstVersion(m.stream()) : -1;
        if (fileFirst > last) {
            // Not a lost log tail: retention rewrote the file without these versions (its limits
            // hide them) while the tail index still named them, which is the state after a pass
            // that failed between its sync and its checkpoint, or after a restart. Nothing can
            // be compared; re-splitting them from the log is right either way.
            Logger.warn("stream file no longer holds versions {}..{} (retention dropped them; the file starts at "
                    + "version {}); re-splitting them from the log: stream={}", m.base(), last, fileFirst, m.stream());
        } else {
            Logger.error("stream file holds versions the log lost in a power cut (new appends reused them): stream={} "
                    + "version={} fileRecordPosition={} logRecordPosition={}; cutting the file back to version {} and "
                    + "re-splitting from the log", m.stream(), last, fileRecord == null ? -1 : fileRecord.getPosition(),
                    inLog, m.base() - 1);
        }
        if (m.base() == 0) {
            files.discard(m.stream()); // the log holds the whole stream: the next group creates the file
            return -1;
        }
        return rebuildFromLog(m.stream(), m.firstPosition(), m.base() - 1);
    }

    /**
     * Rebuilds a stream's damaged file from its sound part and the events the log still holds
     * before {@code before} (see {@link StreamFiles.Rebuild}), reading the log a few hundred
     * records at a time: memory does not grow with the stream.
     *
     * @param throughVersion the last version the file must hold (-1: none, the log holds the
     *                       whole stream), {@link StreamFiles#LAST_VERSION_UNKNOWN} when not known
     * @return the last version in the rebuilt file
     */
    private long rebuildFromLog(String stream, long before, long throughVersion) throws IOException {
        // The newest version known here (the tail index's, else the one the file must end at):
        // a max_count limit counts back from it; a lower guess only hides fewer versions.
        TailIndex.Snapshot unsplit = tail.snapshot(stream, Long.MAX_VALUE);
        long newest = unsplit != null && unsplit.positions().length > 0 ? unsplit.lastVersion() : throughVersion;
        long hiddenBelow = newest >= 0 ? visibility.firstVisible(stream, newest) : 0;
        try (StreamFiles.Rebuild rebuild = files.startRebuild(stream, throughVersion, hiddenBelow)) {
            long at = 0;
            scan:
            while (at < before) {
                MainLog.ReadBatch b = log.read(at, REBUILD_READ_RECORDS);
                if (b.records().isEmpty()) {
                    break;
                }
                for (LogRecord r : b.records()) {
                    if (r.getPosition() >= before) {
                        break scan;
                    }
                    if (r.getStream().equals(stream)) {
                        rebuild.add(r.getVersion(), r.toByteArray());
                    }
                }
                at = b.next();
            }
            return rebuild.commit();
        }
    }

    /** Log records a rebuild reads at once (bounds its memory with the log's largest record). */
    private static final int REBUILD_READ_RECORDS = 256;

    private void serveRebuilds() {
        Rebuild r;
        while ((r = rebuilds.poll()) != null) {
            try {
                // The file holds every version below the stream's first unsplit one: rebuild
                // those from the log; the unsplit ones stay in the tail index until they ripen.
                // Without unsplit events the last split version is not known here: the damaged
                // file's last footer (or what the file and log hold) stands for it.
                TailIndex.Snapshot snap = tail.snapshot(r.stream(), Long.MAX_VALUE);
                boolean unsplit = snap != null && snap.positions().length > 0;
                long before = unsplit ? snap.positions()[0] : log.committedPosition();
                rebuildFromLog(r.stream(), before, unsplit ? snap.base() - 1 : StreamFiles.LAST_VERSION_UNKNOWN);
                r.done().complete(null);
            } catch (IOException | RuntimeException e) {
                Logger.error("rebuilding stream file failed: stream={} error={}", r.stream(), e.toString());
                r.done().completeExceptionally(e);
            }
        }
    }

    /** The stream table's checkpoint position when {@link #reclaim()} last ran. */
    private long tableCheckpointAtReclaim = -1;

    private void reclaim() {
        tableCheckpointAtReclaim = tableCheckpointPosition.getAsLong();
        long safe = Math.min(position, tableCheckpointAtReclaim);
        try {
            List<Path> deleted = log.reclaim(safe, options.retainMillis(), options.retainBytes(),
                    System.currentTimeMillis());
            if (!deleted.isEmpty()) {
                Logger.info("retention deleted {} log segment(s), oldest position now {}", deleted.size(),
                        log.oldestPosition());
            }
        } catch (IOException e) {
            Logger.warn("retention could not delete a log segment: {}", e.toString());
        }
    }
}
