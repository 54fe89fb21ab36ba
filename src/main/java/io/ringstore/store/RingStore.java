package io.ringstore.store;

import io.ringstore.checkpoint.Checkpointer;
import io.ringstore.checkpoint.StreamTableCheckpoint;
import io.ringstore.log.MainLog;
import io.ringstore.log.RecoveryReport;
import io.ringstore.writer.AppendRequest;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.writer.StreamTable;
import io.ringstore.writer.Writer;
import io.ringstore.writer.WriterStats;
import java.io.IOException;
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
    private final StoreConfig config;
    private final DataDirLock lock;
    private final MainLog log;
    private final StreamTable table;
    private final Writer writer;
    private final Checkpointer checkpointer;
    private final Thread writerThread;
    private final Thread checkpointThread;
    private final RecoveryReport recovery;
    private volatile boolean closed;

    private RingStore(StoreConfig config, DataDirLock lock, MainLog log, StreamTable table, RecoveryReport recovery,
                      ArrayDeque<Object[]> recoveredIds) {
        this.config = config;
        this.lock = lock;
        this.log = log;
        this.table = table;
        this.recovery = recovery;
        this.checkpointer = new Checkpointer(config.io(), config.checkpointDir());
        this.writer = new Writer(log, table, config.writer(), checkpointer);
        for (Object[] id : recoveredIds) {
            writer.rememberRecovered((byte[]) id[0], (String) id[1], (Long) id[2], (Long) id[3]);
        }
        this.writerThread = Thread.ofPlatform().name("ringstore-writer").unstarted(writer);
        this.checkpointThread = Thread.ofPlatform().name("ringstore-checkpointer").daemon().unstarted(checkpointer);
        checkpointThread.start();
        writerThread.start();
    }

    /**
     * Opens the store: locks the folder, loads the stream-table checkpoint, recovers the log tail.
     *
     * @throws DataDirLock.LockedException when another store has the folder
     * @throws io.ringstore.log.CorruptLogException when acknowledged history is damaged (and repair is off)
     */
    public static RingStore open(StoreConfig config) throws IOException {
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        try {
            StreamTableCheckpoint.removeTemp(config.checkpointDir());
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
            long scanFrom = checkpoint != null ? checkpoint.position() : 0;
            int window = config.writer().idempotencyWindow();
            ArrayDeque<Object[]> ids = new ArrayDeque<>();
            if (checkpoint != null) {
                for (var e : checkpoint.recentIds()) {
                    ids.addLast(new Object[] {e.eventId(), e.stream(), e.version(), e.position()});
                }
            }
            long[] anomalies = new long[1];
            MainLog.Opened opened = MainLog.open(config.logDir(), config.io(), config.segmentSize(), config.repair(), scanFrom,
                        record -> {
                            String stream = record.getStream();
                            if (record.getVersion() != table.version(stream) + 1) {
                                anomalies[0]++;
                            }
                            table.put(stream, record.getVersion(), record.getPosition());
                            if (window > 0) {
                                ids.addLast(new Object[] {record.getEventId().toByteArray(), stream,
                                        record.getVersion(), record.getPosition()});
                                if (ids.size() > window) {
                                    ids.removeFirst();
                                }
                            }
                        });
            if (anomalies[0] > 0) {
                Logger.warn("recovery saw {} records whose version did not follow the stream table", anomalies[0]);
            }
            Logger.info(opened.report().summary() + " streams=" + table.size());
            return new RingStore(config, lock, opened.log(), table, opened.report(), ids);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Queues an append; the future completes when it is acknowledged (after the force, by default). */
    public CompletableFuture<AppendResult> append(String stream, ExpectedVersion expected, List<EventData> events) {
        AppendRequest request;
        try {
            request = new AppendRequest(stream, expected, events);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        writer.submit(request);
        return request.result();
    }

    /** Reads records of the {@code $all} order from {@code position}, on the calling thread. */
    public MainLog.ReadBatch readAll(long position, int maxCount) {
        return log.read(position, maxCount);
    }

    public long committedPosition() {
        return log.committedPosition();
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

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        writer.stop();
        try {
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        checkpointer.stop();
        try {
            checkpointThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Clean stop: the writer forced everything; a checkpoint at the end makes the next start scan nothing.
        if (!log.hasUnforcedBytes() && writer.stats().lastError() == null) {
            checkpointer.writeNow(log.writePosition(), table.snapshot(), writer.recentIdsAfterStop());
        }
        log.close();
        lock.close();
        Logger.info("store closed: position={}", log.writePosition());
    }
}
