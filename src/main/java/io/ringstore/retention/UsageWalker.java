package io.ringstore.retention;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.tinylog.Logger;

/**
 * Walks the data folder (outside the log) on a thread of its own when the compactor asks, so
 * that neither start-up (readiness) nor the splitter waits for a walk whose length grows with
 * the number of stream files (seconds on an SD card with 100,000 of them). One walk at a time;
 * the compactor polls for the result between the splitter's windows.
 */
final class UsageWalker implements Runnable {
    /** A finished walk: the bytes found, or the error that stopped it. */
    record Result(long bytes, IOException error) {}

    private final Path dataDir;
    private final SynchronousQueue<Boolean> requests = new SynchronousQueue<>();
    private final AtomicReference<Result> result = new AtomicReference<>();
    private volatile boolean stopping;
    private Thread thread;

    UsageWalker(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** Compactor thread: starts a walk; false when one is still running. */
    boolean request() {
        if (thread == null) {
            thread = Thread.ofPlatform().name("ringstore-disk-usage").daemon().start(this);
        }
        return requests.offer(Boolean.TRUE);
    }

    /** Compactor thread: the walk that finished since the last call, or null. */
    Result poll() {
        return result.getAndSet(null);
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                if (requests.poll(1, TimeUnit.SECONDS) == null) {
                    continue;
                }
                long started = System.nanoTime();
                try {
                    long bytes = DiskBudget.folderBytes(dataDir, dataDir.resolve("log"));
                    Logger.debug("disk usage walk: bytes={} ms={}", bytes, (System.nanoTime() - started) / 1_000_000);
                    result.set(new Result(bytes, null));
                } catch (IOException | java.io.UncheckedIOException e) {
                    result.set(new Result(0, e instanceof IOException io ? io
                            : ((java.io.UncheckedIOException) e).getCause()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread (a walk under way is abandoned: the thread is a daemon and holds nothing). */
    void stop() {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }
}
