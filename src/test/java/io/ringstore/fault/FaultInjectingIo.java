package io.ringstore.fault;

import io.ringstore.log.StorageIo;
import io.ringstore.nativeio.NoSpaceException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link StorageIo} that passes every call to a real one, except the calls it is armed to fail.
 *
 * <p>Arm one operation at a time or several: {@link #failOnce failOnce(op, n)} fails the n-th call
 * of {@code op} counted from the moment of arming, and only that one; {@link #failFrom
 * failFrom(op, n)} fails the n-th and every later call until {@link #clear cleared}. Re-arming an
 * operation restarts its count.
 *
 * <p>What a failed call leaves behind is what Linux leaves:
 * <ul>
 *   <li>a failed sync ({@code FORCE} of a mapping, {@code FILE_FORCE} of a channel, {@code SYNCFS})
 *       may have written some pages and not others, marks them all clean and reports the error
 *       once: the next sync succeeds without writing them. By default the worst case is modelled
 *       (see {@link Writeback}): every page dirtied since the last good sync is lost, the page
 *       cache keeps showing it until {@link #evictLostPages()}, and only pages written again
 *       reach the disk; {@link #failedSyncsReachDisk(boolean) failedSyncsReachDisk(true)} models
 *       the other end (the pages were written, only the report failed);</li>
 *   <li>a failed {@code FILE_WRITE} writes the first half of its bytes, then throws (a short
 *       write followed by an error: the bytes are in the file);</li>
 *   <li>every other failed call throws before it reaches the real layer (a failed rename leaves
 *       both names as they were).</li>
 * </ul>
 *
 * <p>Deterministic: no clock, no randomness. Which call is the n-th depends only on the order of
 * calls. Once a store is open, its calls come from the writer thread, except the checkpointer's
 * {@code writeFile}, {@code rename} and {@code forceDirectory}, which follow each segment roll on
 * their own thread. Thread-safe.
 */
public final class FaultInjectingIo implements StorageIo {

    /** The operations of {@link StorageIo}, one per method. */
    public enum Op {
        ALLOCATE, MAP, WRITE, FORCE, FORCE_DIRECTORY, WRITE_FILE, RENAME, OPEN, SYNCFS, DELETE, CREATE_DIRECTORIES,
        /** A write on a channel from {@link #open}. */
        FILE_WRITE,
        /** A force of a channel from {@link #open}. */
        FILE_FORCE
    }

    /** Fail one call, or every call from the n-th on. */
    public enum Mode { ONCE, PERSISTENT }

    /** What an armed operation throws: a plain I/O error, or "no space" (ENOSPC). */
    public enum Failure { IO_ERROR, NO_SPACE }

    private final StorageIo delegate;
    private final Map<Op, Arming> armed = new EnumMap<>(Op.class);
    private final Map<Op, Long> calls = new EnumMap<>(Op.class);
    private final Map<Op, Long> injected = new EnumMap<>(Op.class);
    private CountDownLatch firstInjection = new CountDownLatch(1);
    private final Writeback writeback = new Writeback();
    private boolean failedSyncsReachDisk;

    private record Arming(Mode mode, long nth, Failure failure, long[] seen) {}

    public FaultInjectingIo(StorageIo delegate) {
        this.delegate = delegate;
        for (Op op : Op.values()) {
            calls.put(op, 0L);
            injected.put(op, 0L);
        }
    }

    /** Fails the {@code nth} call (1 = the next one) of {@code op} from now, once, with an I/O error. */
    public FaultInjectingIo failOnce(Op op, long nth) {
        return arm(op, Mode.ONCE, nth, Failure.IO_ERROR);
    }

    /** Fails the {@code nth} call of {@code op} from now and every later one, until cleared. */
    public FaultInjectingIo failFrom(Op op, long nth) {
        return arm(op, Mode.PERSISTENT, nth, Failure.IO_ERROR);
    }

    /** Arms {@code op}; replaces an earlier arming of it and restarts its count. */
    public synchronized FaultInjectingIo arm(Op op, Mode mode, long nth, Failure failure) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth counts from 1: " + nth);
        }
        if (failure == Failure.NO_SPACE && op != Op.ALLOCATE && op != Op.FILE_WRITE) {
            throw new IllegalArgumentException("only allocate and file writes report no space: op=" + op);
        }
        armed.put(op, new Arming(mode, nth, failure, new long[1]));
        if (firstInjection.getCount() == 0) {
            firstInjection = new CountDownLatch(1);
        }
        return this;
    }

    /** Disarms {@code op}: its calls pass again. */
    public synchronized void clear(Op op) {
        armed.remove(op);
    }

    /** Disarms every operation. */
    public synchronized void clearAll() {
        armed.clear();
    }

    /** Calls of {@code op} made since construction, failed ones included. */
    public synchronized long calls(Op op) {
        return calls.get(op);
    }

    /** Calls of {@code op} failed on purpose since construction. */
    public synchronized long injected(Op op) {
        return injected.get(op);
    }

    /** Waits until a fault has been injected since the last arming; false on timeout. */
    public boolean awaitInjection(long timeout, TimeUnit unit) throws InterruptedException {
        CountDownLatch latch;
        synchronized (this) {
            latch = firstInjection;
        }
        return latch.await(timeout, unit);
    }

    /**
     * Whether a failed sync had written its pages after all (true) or lost them all (false, the
     * default). Either way the error is reported once.
     */
    public synchronized FaultInjectingIo failedSyncsReachDisk(boolean reach) {
        this.failedSyncsReachDisk = reach;
        return this;
    }

    /** Pages lost by failed syncs so far (see {@link Writeback}). */
    public synchronized long lostPages() {
        return writeback.lostPages();
    }

    /**
     * The page cache drops the pages failed syncs lost: reads now see what the disk holds for
     * them (as after a restart). Returns the pages put back. Call while the store is quiet (closed,
     * or with no write under way), as a cache would not evict a page being written.
     */
    public synchronized int evictLostPages() throws IOException {
        return writeback.evict();
    }

    /** Counts a call of {@code op} and throws if it is one to fail. */
    private void enter(Op op, Object target) throws IOException {
        IOException fault = check(op, target);
        if (fault != null) {
            throw fault;
        }
    }

    /** Counts a call of {@code op}; returns the fault to throw if it is one to fail, else null. */
    private IOException check(Op op, Object target) {
        IOException fault;
        synchronized (this) {
            long n = calls.merge(op, 1L, Long::sum);
            Arming a = armed.get(op);
            if (a == null) {
                return null;
            }
            long seen = ++a.seen()[0];
            boolean fail = a.mode() == Mode.ONCE ? seen == a.nth() : seen >= a.nth();
            if (!fail) {
                return null;
            }
            if (a.mode() == Mode.ONCE) {
                armed.remove(op);
            }
            injected.merge(op, 1L, Long::sum);
            String message = "injected fault: op=" + op + " call=" + n + " mode=" + a.mode() + " target=" + target;
            fault = a.failure() == Failure.NO_SPACE ? new NoSpaceException(message) : new IOException(message);
            firstInjection.countDown();
        }
        return fault;
    }

    @Override
    public void allocate(Path file, long size) throws IOException {
        enter(Op.ALLOCATE, file);
        delegate.allocate(file, size);
    }

    @Override
    public MemorySegment map(Path file, long size, Arena arena) throws IOException {
        enter(Op.MAP, file);
        MemorySegment mapping = delegate.map(file, size, arena);
        synchronized (this) {
            writeback.mapped(mapping, file);
        }
        return mapping;
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException {
        enter(Op.WRITE, "mapping@" + offset);
        synchronized (this) {
            writeback.beforeMappingWrite(mapping, offset, source.byteSize());
        }
        delegate.write(mapping, offset, source);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        IOException fault = check(Op.FORCE, "mapping@" + offset + "+" + length);
        // A failed msync: the pages are lost, or (failedSyncsReachDisk) written; reported once.
        if (fault == null || reach()) {
            delegate.force(mapping, offset, length);
        }
        synchronized (this) {
            writeback.mappingForced(mapping, offset, length, fault != null && !failedSyncsReachDisk);
        }
        if (fault != null) {
            throw fault;
        }
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        enter(Op.FORCE_DIRECTORY, dir);
        delegate.forceDirectory(dir);
    }

    @Override
    public void writeFile(Path file, byte[] content) throws IOException {
        enter(Op.WRITE_FILE, file);
        delegate.writeFile(file, content);
        synchronized (this) {
            writeback.replaced(file);
        }
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        enter(Op.RENAME, from);
        delegate.rename(from, to);
        synchronized (this) {
            writeback.renamed(from, to);
        }
    }

    @Override
    public java.nio.channels.FileChannel open(Path file, java.nio.file.OpenOption... options) throws IOException {
        enter(Op.OPEN, file);
        java.nio.channels.FileChannel ch = delegate.open(file, options);
        if (java.util.Arrays.asList(options).contains(java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            synchronized (this) {
                writeback.deleted(file); // nothing of what was there can come back
            }
        }
        return java.util.Arrays.asList(options).contains(java.nio.file.StandardOpenOption.WRITE)
                ? new FaultChannel(this, file, ch) : ch;
    }

    @Override
    public void syncfs(Path path) throws IOException {
        IOException fault = check(Op.SYNCFS, path);
        // A failed syncfs: every dirty page is lost, or (failedSyncsReachDisk) written; reported once.
        if (fault == null || reach()) {
            delegate.syncfs(path);
        }
        synchronized (this) {
            if (fault != null && !failedSyncsReachDisk) {
                writeback.failedAll();
            } else {
                writeback.syncedAll();
            }
        }
        if (fault != null) {
            throw fault;
        }
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        enter(Op.DELETE, file);
        boolean deleted = delegate.deleteIfExists(file);
        synchronized (this) {
            writeback.deleted(file);
        }
        return deleted;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        enter(Op.CREATE_DIRECTORIES, dir);
        delegate.createDirectories(dir);
    }

    private synchronized boolean reach() {
        return failedSyncsReachDisk;
    }

    /** A write through a channel from {@link #open}: tracked; failed as armed (half of it written first). */
    int channelWrite(Path file, java.nio.channels.FileChannel ch, java.nio.ByteBuffer src, long position)
            throws IOException {
        IOException fault = check(Op.FILE_WRITE, file + "@" + position);
        int length = src.remaining();
        if (fault != null) {
            length /= 2;
        }
        synchronized (this) {
            writeback.beforeFileWrite(file, ch, position, length);
        }
        java.nio.ByteBuffer part = src.slice(src.position(), length);
        int n = 0;
        while (part.hasRemaining()) {
            n += ch.write(part, position + n);
        }
        src.position(src.position() + n);
        if (fault != null) {
            throw fault;
        }
        return n;
    }

    void beforeTruncate(Path file, java.nio.channels.FileChannel ch, long size) throws IOException {
        synchronized (this) {
            writeback.beforeTruncate(file, ch, size);
        }
    }

    /** A force through a channel from {@link #open}: tracked; failed as armed (pages lost or written). */
    void forceFile(Path file, java.nio.channels.FileChannel ch, boolean metaData) throws IOException {
        IOException fault = check(Op.FILE_FORCE, file);
        if (fault == null || reach()) {
            ch.force(metaData);
        }
        synchronized (this) {
            if (fault != null && !failedSyncsReachDisk) {
                writeback.failed(file);
            } else {
                writeback.synced(file);
            }
        }
        if (fault != null) {
            throw fault;
        }
    }
}
