package io.ringstore.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A comparison target with the store's group-commit shape: producers put appends on a bounded
 * queue; one thread drains it (up to a batch limit), writes the batch, makes it durable once,
 * then acknowledges each append. Subclasses say how a batch is written and made durable (a
 * plain file and fdatasync; a SQLite transaction and its commit) and time that with
 * {@link #recordForce}; this class counts a batch before it acknowledges it.
 */
abstract class QueuedBatchTarget implements AppendTarget {

    /** One queued append. */
    record Request(String stream, byte[] payload, CompletableFuture<Void> done) {}

    private final String name;
    private final int maxBatch;
    private final ArrayBlockingQueue<Request> queue;
    private final Thread thread;
    private volatile boolean stopping;

    // Writer-thread state.
    private final List<Request> batch = new ArrayList<>();
    private long[] forceMicros = new long[4096];

    // Published counters.
    private volatile long batches;
    private volatile long events;
    private volatile long forces;
    private volatile IOException failure;

    QueuedBatchTarget(String name, int queueCapacity, int maxBatch) {
        this.name = name;
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.thread = Thread.ofPlatform().name("bench-" + name + "-writer").unstarted(this::run);
    }

    /** Starts the writer thread; call once the subclass is ready to write. */
    final void start() {
        thread.start();
    }

    @Override
    public final String label() {
        return name;
    }

    @Override
    public final CompletableFuture<?> append(String stream, byte[] payload) {
        Request r = new Request(stream, payload, new CompletableFuture<>());
        if (stopping) {
            r.done.completeExceptionally(new IllegalStateException(name + " stopped"));
            return r.done;
        }
        try {
            queue.put(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.done.completeExceptionally(e);
        }
        return r.done;
    }

    private void run() {
        try {
            while (true) {
                Request first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                try {
                    List<Request> written = writeBatch(batch);
                    // Counters before the acknowledgements: a producer that sees its append
                    // acknowledged (the bench's warm-up, then the window's start) finds it counted.
                    events += written.size();
                    batches++;
                    written.forEach(r -> r.done.complete(null));
                } catch (IOException e) {
                    failure = e;
                    batch.forEach(r -> r.done.completeExceptionally(e));
                }
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            List<Request> rest = new ArrayList<>();
            queue.drainTo(rest);
            rest.forEach(r -> r.done.completeExceptionally(new IllegalStateException(name + " stopped")));
        }
    }

    /**
     * Writes {@code batch} and makes it durable once; returns the requests written, which the
     * caller counts and then acknowledges (an append refused alone is completed exceptionally
     * here and left out). An exception fails every request of the batch not yet completed.
     */
    abstract List<Request> writeBatch(List<Request> batch) throws IOException;

    /** Bytes written per event, for the stats (0 when not known). */
    abstract long frameBytesPerEvent();

    /** Records one force (or commit) latency; writer thread only. */
    final void recordForce(long micros) {
        int n = (int) forces;
        if (n == forceMicros.length) {
            forceMicros = Arrays.copyOf(forceMicros, n * 2);
        }
        forceMicros[n] = micros;
        forces = n + 1;
    }

    /** Call after {@link #close()} for exact force percentiles (the array is writer-thread state). */
    @Override
    public final BatchStats stats() {
        long n = forces;
        long[] sorted = thread.isAlive() ? new long[0] : Arrays.copyOf(forceMicros, (int) n);
        Arrays.sort(sorted);
        return new BatchStats(batches, events, n, events * frameBytesPerEvent(), Percentiles.of(sorted, 0.50),
                Percentiles.of(sorted, 0.99), thread.isAlive() ? "n/a while running" : "all forces");
    }

    /** Stops the writer thread (appends still queued fail), then {@link #closeResources()}. */
    @Override
    public final void close() throws IOException {
        stopping = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeResources();
        if (failure != null) {
            throw failure;
        }
    }

    /** Closes the file or connections once the writer thread has ended. */
    abstract void closeResources() throws IOException;
}
