package io.ringstore.checkpoint;

import io.ringstore.log.StorageIo;
import io.ringstore.writer.RecentEventIds;
import io.ringstore.writer.RollListener;
import java.util.List;
import io.ringstore.writer.StreamTable;
import java.nio.file.Path;
import org.tinylog.Logger;

/**
 * Writes stream-table checkpoints off the writer thread. The writer hands over a snapshot at
 * each segment roll; only the newest pending one is written (an older one is superseded).
 */
public final class Checkpointer implements RollListener, Runnable {
    private final StorageIo io;
    private final Path dir;
    private final Object lock = new Object();
    private long pendingPosition = -1;
    private StreamTable.Snapshot pending;
    private List<RecentEventIds.Entry> pendingIds;
    private boolean stopping;
    private volatile long lastWrittenPosition = -1;

    /** @param loadedPosition position of the checkpoint the store opened with (0: none) */
    public Checkpointer(StorageIo io, Path dir, long loadedPosition) {
        this.io = io;
        this.dir = dir;
        this.lastWrittenPosition = loadedPosition;
    }

    @Override
    public void rolled(long position, StreamTable.Snapshot table, List<RecentEventIds.Entry> recentIds) {
        synchronized (lock) {
            pendingPosition = position;
            pending = table;
            pendingIds = recentIds;
            lock.notifyAll();
        }
    }

    @Override
    public void run() {
        while (true) {
            long position;
            StreamTable.Snapshot table;
            List<RecentEventIds.Entry> ids;
            synchronized (lock) {
                while (pending == null && !stopping) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (pending == null) {
                    return;
                }
                position = pendingPosition;
                table = pending;
                ids = pendingIds;
                pending = null;
                pendingIds = null;
            }
            writeNow(position, table, ids);
        }
    }

    /** Writes a checkpoint on the calling thread (used at a clean stop). */
    public void writeNow(long position, StreamTable.Snapshot table, List<RecentEventIds.Entry> ids) {
        try {
            StreamTableCheckpoint.write(io, dir, position, table, ids);
            lastWrittenPosition = position;
        } catch (Exception e) {
            // Only costs a longer scan at the next start: the log is the truth.
            Logger.warn("writing the stream-table checkpoint failed: position={} error={}", position, e.toString());
        }
    }

    public long lastWrittenPosition() {
        return lastWrittenPosition;
    }

    /** Writes what is pending, then ends the thread. */
    public void stop() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
    }
}
