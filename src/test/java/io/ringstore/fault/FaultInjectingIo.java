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
 * failFrom(op, n)} fails the n-th and every later call until {@link #clear cleared}. A failed call
 * throws before it reaches the real layer, so it has no effect on storage (a failed msync leaves
 * the page cache as it was; a failed rename leaves both names as they were). Re-arming an
 * operation restarts its count.
 *
 * <p>Deterministic: no clock, no randomness. Which call is the n-th depends only on the order of
 * calls. Once a store is open, its calls come from the writer thread, except the checkpointer's
 * {@code writeFile}, {@code rename} and {@code forceDirectory}, which follow each segment roll on
 * their own thread. Thread-safe.
 */
public final class FaultInjectingIo implements StorageIo {

    /** The operations of {@link StorageIo}, one per method. */
    public enum Op { ALLOCATE, MAP, WRITE, FORCE, FORCE_DIRECTORY, WRITE_FILE, RENAME, OPEN, SYNCFS, DELETE, CREATE_DIRECTORIES }

    /** Fail one call, or every call from the n-th on. */
    public enum Mode { ONCE, PERSISTENT }

    /** What an armed operation throws: a plain I/O error, or "no space" (ENOSPC). */
    public enum Failure { IO_ERROR, NO_SPACE }

    private final StorageIo delegate;
    private final Map<Op, Arming> armed = new EnumMap<>(Op.class);
    private final Map<Op, Long> calls = new EnumMap<>(Op.class);
    private final Map<Op, Long> injected = new EnumMap<>(Op.class);
    private CountDownLatch firstInjection = new CountDownLatch(1);

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
        if (failure == Failure.NO_SPACE && op != Op.ALLOCATE) {
            throw new IllegalArgumentException("only allocate reports no space: op=" + op);
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

    /** Counts a call of {@code op} and throws if it is one to fail. */
    private void enter(Op op, Object target) throws IOException {
        IOException fault;
        synchronized (this) {
            long n = calls.merge(op, 1L, Long::sum);
            Arming a = armed.get(op);
            if (a == null) {
                return;
            }
            long seen = ++a.seen()[0];
            boolean fail = a.mode() == Mode.ONCE ? seen == a.nth() : seen >= a.nth();
            if (!fail) {
                return;
            }
            if (a.mode() == Mode.ONCE) {
                armed.remove(op);
            }
            injected.merge(op, 1L, Long::sum);
            String message = "injected fault: op=" + op + " call=" + n + " mode=" + a.mode() + " target=" + target;
            fault = a.failure() == Failure.NO_SPACE ? new NoSpaceException(message) : new IOException(message);
            firstInjection.countDown();
        }
        throw fault;
    }

    @Override
    public void allocate(Path file, long size) throws IOException {
        enter(Op.ALLOCATE, file);
        delegate.allocate(file, size);
    }

    @Override
    public MemorySegment map(Path file, long size, Arena arena) throws IOException {
        enter(Op.MAP, file);
        return delegate.map(file, size, arena);
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException {
        enter(Op.WRITE, "mapping@" + offset);
        delegate.write(mapping, offset, source);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        enter(Op.FORCE, "mapping@" + offset + "+" + length);
        delegate.force(mapping, offset, length);
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
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        enter(Op.RENAME, from);
        delegate.rename(from, to);
    }

    @Override
    public java.nio.channels.FileChannel open(Path file, java.nio.file.OpenOption... options) throws IOException {
        enter(Op.OPEN, file);
        return delegate.open(file, options);
    }

    @Override
    public void syncfs(Path path) throws IOException {
        enter(Op.SYNCFS, path);
        delegate.syncfs(path);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        enter(Op.DELETE, file);
        return delegate.deleteIfExists(file);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        enter(Op.CREATE_DIRECTORIES, dir);
        delegate.createDirectories(dir);
    }
}
