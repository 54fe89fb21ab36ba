package io.ringstore.split;

import io.ringstore.log.MainLog;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.TailIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.tinylog.Logger;

/**
 * The lazy splitter: follows the main log from its durable checkpoint, gathers a window of
 * events (by bytes and by time), appends each stream's share to that stream's file with one
 * write, syncs once, then moves its checkpoint, trims the tail index and lets retention reclaim
 * log segments behind it.
 *
 * <p>It backs off when the storage is busy (see {@link PressurePolicy}) and catches up when it
 * is calm; past its lag bound it works even under pressure, at a limited duty cycle.
 *
 * <p>Exception policy: an I/O error in a window is logged, the window is abandoned (nothing was
 * checkpointed, so it is redone) and the splitter retries after a pause; the log and its readers
 * are unaffected. A stream file found damaged is rebuilt from the log.
 */
public final class Splitter implements Runnable {
    private static final long IDLE_POLL_MILLIS = 100;
    private static final long ERROR_BACKOFF_MILLIS = 1_000;

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

    private volatile boolean stopping;
    private volatile SplitterState state = SplitterState.RUNNING;
    private volatile long position;
    private volatile long windows;
    private volatile long eventsSplit;
    private volatile double lastLagSeconds;
    private volatile long heartbeatNanos = System.nanoTime();
    private boolean pressureHigh;
    private int calmReadings;
    private long lastErrorLogMillis;

    private record Rebuild(String stream, CompletableFuture<Void> done) {}

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
    }

    /** Called on every state change (on the splitter thread). */
    public void onStateChange(Consumer<SplitterState> listener) {
        listeners.add(listener);
    }

    public SplitterStatus status() {
        long committed = log.committedPosition();
        long lagBytes = Math.max(0, committed - Math.max(position, log.oldestPosition()));
        double lagSeconds = lagBytes == 0 ? 0 : lastLagSeconds;
        boolean lagging = lagBytes > options.windowBytes() || lagSeconds * 1000 > 2.0 * options.windowMillis();
        return new SplitterStatus(state, position, tail.events(), lagBytes, lagSeconds, windows, eventsSplit,
                files.openFiles(), lagging);
    }

    /** When the loop last came round (a hung sync stops it). */
    public long heartbeatNanos() {
        return heartbeatNanos;
    }

    public long position() {
        return position;
    }

    public void stop() {
        stopping = true;
        wake();
    }

    /** Wakes the splitter from a pause or wait early (new pressure readings are taken at once). */
    public void wake() {
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

    @Override
    public void run() {
        try {
            while (!stopping) {
                heartbeatNanos = System.nanoTime();
                serveRebuilds();
                PressureReading reading = gauge.read();
                updatePressure(reading);
                boolean over = overLimit();
                if (pressureHigh && !over) {
                    setState(SplitterState.PAUSED_FOR_PRESSURE);
                    pause(IDLE_POLL_MILLIS);
                    continue;
                }
                try {
                    if (pressureHigh) {
                        setState(SplitterState.OVER_LIMIT);
                        long started = System.nanoTime();
                        splitWindow(false);
                        long busyMillis = Math.max(1, (System.nanoTime() - started) / 1_000_000);
                        double duty = overLimitDuty();
                        pause((long) (busyMillis * (1 - duty) / duty));
                        continue;
                    }
                    boolean backlog = log.committedPosition() - position > options.windowBytes();
                    if (backlog && state != SplitterState.RUNNING) {
                        setState(SplitterState.CATCHING_UP);
                    } else if (!backlog) {
                        setState(SplitterState.RUNNING);
                    }
                    splitWindow(!backlog);
                } catch (IOException | RuntimeException e) {
                    long now = System.currentTimeMillis();
                    if (now - lastErrorLogMillis > 60_000) {
                        lastErrorLogMillis = now;
                        Logger.error(e, "splitter window failed, retrying (the log still holds every event)");
                    }
                    files.close();
                    pause(ERROR_BACKOFF_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            files.close();
            setState(SplitterState.STOPPED);
            Rebuild r;
            while ((r = rebuilds.poll()) != null) {
                r.done().completeExceptionally(new IOException("splitter stopped"));
            }
        }
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
        return lagRatio() > 1;
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

    /**
     * Gathers one window and splits it. With {@code waitForWindow}, a part-full window waits for
     * more events until its oldest event is {@code windowMillis} old.
     */
    void splitWindow(boolean waitForWindow) throws IOException, InterruptedException {
        long start = Math.max(position, log.oldestPosition());
        long next = start;
        List<LogRecord> window = new ArrayList<>();
        long firstSeenNanos = 0;
        while (!stopping) {
            MainLog.ReadBatch b = log.read(next, 1024);
            if (!b.records().isEmpty()) {
                if (window.isEmpty()) {
                    firstSeenNanos = System.nanoTime();
                }
                List<LogRecord> records = b.records();
                // The window ends at the record that fills it, not at the end of a read batch:
                // 1024 small records can be many windows' worth, and over the lag limit the
                // window is what bounds each burst of work.
                int take = records.size();
                for (int i = 1; i < records.size(); i++) {
                    if (records.get(i).getPosition() - start >= options.windowBytes()) {
                        take = i;
                        break;
                    }
                }
                window.addAll(take == records.size() ? records : records.subList(0, take));
                next = take == records.size() ? b.next() : records.get(take).getPosition();
                if (next - start >= options.windowBytes()) {
                    break;
                }
                continue;
            }
            if (window.isEmpty()) {
                log.awaitCommittedBeyond(next, IDLE_POLL_MILLIS);
                return;
            }
            long ageMillis = ageMillis(window.getFirst(), firstSeenNanos);
            if (!waitForWindow || ageMillis >= options.windowMillis()) {
                break;
            }
            log.awaitCommittedBeyond(next, Math.min(IDLE_POLL_MILLIS, options.windowMillis() - ageMillis));
            if (!rebuilds.isEmpty()) {
                break;
            }
        }
        if (window.isEmpty()) {
            return;
        }
        Map<String, List<LogRecord>> byStream = new LinkedHashMap<>();
        for (LogRecord r : window) {
            byStream.computeIfAbsent(r.getStream(), k -> new ArrayList<>()).add(r);
        }
        Map<String, Long> lastSplit = new LinkedHashMap<>();
        for (Map.Entry<String, List<LogRecord>> e : byStream.entrySet()) {
            lastSplit.put(e.getKey(), appendToFile(e.getKey(), e.getValue(), next));
        }
        // Durable in stream files first, then the checkpoint, then readers are sent to the files.
        files.syncAll();
        SplitterCheckpoint.write(io, checkpointDir, next);
        position = next;
        lastSplit.forEach(tail::trimThrough);
        windows++;
        eventsSplit += window.size();
        log.releaseBefore(position);
        reclaim();
    }

    /** Age of a window's oldest event: by its timestamp, or since we first saw it, whichever is older. */
    private static long ageMillis(LogRecord oldest, long firstSeenNanos) {
        long byTimestamp = System.currentTimeMillis() - oldest.getTimestampMicros() / 1_000;
        long bySeen = (System.nanoTime() - firstSeenNanos) / 1_000_000;
        return Math.max(byTimestamp, bySeen);
    }

    /** Appends one stream's events of a window to its file; returns the stream's last version split. */
    private long appendToFile(String stream, List<LogRecord> events, long windowEnd) throws IOException {
        long fileLast;
        try {
            fileLast = files.lastVersion(stream);
        } catch (StreamFileException e) {
            Logger.error("stream file damaged, rebuilding it from the log: {}", e.getMessage());
            fileLast = rebuildFromLog(stream, events.getFirst().getPosition());
        }
        long first = events.getFirst().getVersion();
        if (first > fileLast + 1) {
            // The file lacks versions that every earlier window put there: it was damaged,
            // truncated or deleted behind our back. The log may still hold them.
            Logger.error("stream file is missing versions {}..{}, rebuilding it from the log: stream={}",
                    fileLast + 1, first - 1, stream);
            fileLast = rebuildFromLog(stream, events.getFirst().getPosition());
        }
        List<byte[]> bodies = new ArrayList<>(events.size());
        long firstNew = -1;
        for (LogRecord r : events) {
            // Idempotent re-split: versions the file already holds are skipped.
            if (r.getVersion() > fileLast) {
                if (firstNew < 0) {
                    firstNew = r.getVersion();
                }
                bodies.add(r.toByteArray());
            }
        }
        if (!bodies.isEmpty()) {
            files.appendGroup(stream, bodies, firstNew);
        }
        return events.getLast().getVersion();
    }

    /**
     * Rewrites a stream's file from the events the log still holds before {@code before}.
     *
     * @return the last version in the rebuilt file
     */
    private long rebuildFromLog(String stream, long before) throws IOException {
        List<byte[]> bodies = new ArrayList<>();
        long firstVersion = -1;
        long lastVersion = -1;
        long at = 0;
        while (at < before) {
            MainLog.ReadBatch b = log.read(at, 4096);
            if (b.records().isEmpty()) {
                break;
            }
            for (LogRecord r : b.records()) {
                if (r.getPosition() >= before) {
                    break;
                }
                if (r.getStream().equals(stream)) {
                    if (firstVersion < 0) {
                        firstVersion = r.getVersion();
                    }
                    lastVersion = r.getVersion();
                    bodies.add(r.toByteArray());
                }
            }
            at = b.next();
        }
        if (firstVersion > 0) {
            Logger.error("stream {}: versions 0..{} are lost: its file was damaged and retention has deleted "
                    + "the log that held them; the rebuilt file starts at version {}", stream, firstVersion - 1, firstVersion);
        }
        files.forget(stream);
        files.rebuild(stream, bodies, Math.max(0, firstVersion));
        Logger.info("rebuilt stream file from the log: stream={} versions={}..{}", stream, Math.max(0, firstVersion), lastVersion);
        return lastVersion;
    }

    private void serveRebuilds() {
        Rebuild r;
        while ((r = rebuilds.poll()) != null) {
            try {
                long last = rebuildFromLog(r.stream(), position);
                // Events after the split position stay in the tail index until their window.
                tail.trimThrough(r.stream(), last);
                r.done().complete(null);
            } catch (IOException | RuntimeException e) {
                Logger.error("rebuilding stream file failed: stream={} error={}", r.stream(), e.toString());
                r.done().completeExceptionally(e);
            }
        }
    }

    private void reclaim() {
        long safe = Math.min(position, tableCheckpointPosition.getAsLong());
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
