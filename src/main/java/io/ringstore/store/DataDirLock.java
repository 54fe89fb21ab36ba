package io.ringstore.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on the data folder, so a second process (or a second store in this one)
 * never opens the same log. The kernel drops the lock when the process dies, so a crash leaves
 * nothing stale behind.
 */
public final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Thrown when another store holds the folder. */
    public static final class LockedException extends IOException {
        LockedException(Path dir) {
            super("data folder is in use by another ringstore: dir=" + dir);
        }
    }

    public static DataDirLock acquire(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        FileChannel ch = FileChannel.open(dataDir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                throw new LockedException(dataDir);
            }
            return new DataDirLock(ch, lock);
        } catch (OverlappingFileLockException e) {
            ch.close();
            throw new LockedException(dataDir);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        // Twice is harmless: a store whose start failed after its threads ran closes itself,
        // and open's own clean-up closes the lock again.
        if (!channel.isOpen()) {
            return;
        }
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
