package io.ringstore.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs the workload against one target: {@code producers} threads, producer p appending events
 * p, p + producers, p + 2 * producers, ... and keeping at most {@code inFlight} appends
 * unacknowledged (a semaphore per producer, released by the acknowledgement; at one in flight a
 * blocking call instead, {@link AppendTarget#appendAndWait}, as a blocking client makes). Latency is from
 * just before {@code append} to the acknowledgement callback. The clock runs from the moment all
 * producers are released to the moment the last acknowledgement has arrived.
 *
 * <p>Paced (a rate above 0): event i is not appended before {@code start + i / rate}, so the
 * producers together offer a steady ingest rate (they fall behind it only when the target is
 * slower). {@link #stop()} ends a run early: no new appends, the ones in flight are waited for.
 */
final class LoadDriver {

    /**
     * What one run did.
     *
     * @param acked          appends acknowledged successfully
     * @param failed         appends that failed
     * @param firstError     the first failure, or null
     * @param elapsedNanos   wall time of the run
     * @param latencyP50Nanos median append latency
     * @param latencyP99Nanos 99th percentile append latency
     * @param latencyMaxNanos slowest append
     */
    record Result(long acked, long failed, String firstError, long elapsedNanos, long latencyP50Nanos,
                  long latencyP99Nanos, long latencyMaxNanos) {

        double seconds() {
            return elapsedNanos / 1e9;
        }

        double eventsPerSecond() {
            return acked / seconds();
        }
    }

    private final AppendTarget target;
    private final Workload workload;
    private final int producers;
    private final int inFlight;
    private final double eventsPerSecond;
    private final LongAdder acked = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile boolean stopped;
    private volatile long startNanos;

    LoadDriver(AppendTarget target, Workload workload, int producers, int inFlight) {
        this(target, workload, producers, inFlight, 0);
    }

    /** A driver offering at most {@code eventsPerSecond} (0: as fast as the target takes them). */
    LoadDriver(AppendTarget target, Workload workload, int producers, int inFlight, double eventsPerSecond) {
        if (eventsPerSecond < 0) {
            throw new IllegalArgumentException("rate must be >= 0: " + eventsPerSecond);
        }
        this.target = target;
        this.workload = workload;
        this.producers = producers;
        this.inFlight = inFlight;
        this.eventsPerSecond = eventsPerSecond;
    }

    /** Producers append nothing more; {@link #run()} returns once the appends in flight are acknowledged. */
    void stop() {
        stopped = true;
    }

    /** Acknowledgements so far (successful or not), for progress lines. */
    long completed() {
        return acked.sum() + failed.sum();
    }

    Result run() throws InterruptedException {
        int events = workload.events();
        long[][] latencies = new long[producers][];
        int[] issued = new int[producers];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++) {
            int producer = p;
            latencies[p] = new long[(events - p + producers - 1) / producers];
            threads[p] = Thread.ofPlatform().name("bench-producer-" + p).unstarted(
                    () -> issued[producer] = produce(producer, latencies[producer], go));
            threads[p].start();
        }
        long start = System.nanoTime();
        startNanos = start;
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.nanoTime() - start;
        int n = 0;
        for (int count : issued) {
            n += count;
        }
        long[] all = new long[n];
        n = 0;
        for (int p = 0; p < producers; p++) {
            System.arraycopy(latencies[p], 0, all, n, issued[p]);
            n += issued[p];
        }
        Arrays.sort(all);
        return new Result(acked.sum(), failed.sum(), firstError.get(), elapsed, Percentiles.of(all, 0.50),
                Percentiles.of(all, 0.99), all.length == 0 ? 0 : all[all.length - 1]);
    }

    /** Returns how many appends this producer issued (all of its share, unless stopped). */
    private int produce(int producer, long[] latency, CountDownLatch go) {
        Semaphore window = new Semaphore(inFlight);
        int k = 0;
        try {
            go.await();
            byte[] payload = workload.payload();
            double nanosPerEvent = eventsPerSecond > 0 ? 1e9 / eventsPerSecond : 0;
            for (int i = producer; i < workload.events() && !stopped; i += producers) {
                if (nanosPerEvent > 0) {
                    long due = startNanos + (long) (i * nanosPerEvent);
                    for (long wait = due - System.nanoTime(); wait > 0 && !stopped; wait = due - System.nanoTime()) {
                        LockSupport.parkNanos(wait);
                    }
                }
                if (inFlight == 1) {
                    // A blocking client: one call that returns with the acknowledgement.
                    int slot = k++;
                    long begin = System.nanoTime();
                    try {
                        target.appendAndWait(producer, workload.streamOf(i), payload);
                        acked.increment();
                    } catch (RuntimeException e) {
                        failed.increment();
                        firstError.compareAndSet(null, String.valueOf(e));
                    }
                    latency[slot] = System.nanoTime() - begin;
                    continue;
                }
                if (target.appendsInBatches() && nanosPerEvent == 0) {
                    // What the window allows now goes as one request (socket-multi).
                    window.acquire();
                    int n = 1 + window.drainPermits();
                    List<String> streams = new ArrayList<>(n);
                    int last = i;
                    for (int j = i; j < workload.events() && streams.size() < n; j += producers) {
                        streams.add(workload.streamOf(j));
                        last = j;
                    }
                    window.release(n - streams.size());
                    i = last;
                    long begin = System.nanoTime();
                    List<? extends java.util.concurrent.CompletableFuture<?>> done =
                            target.appendBatch(producer, streams, payload);
                    for (java.util.concurrent.CompletableFuture<?> f : done) {
                        int slot = k++;
                        f.whenComplete((ok, error) -> {
                            latency[slot] = System.nanoTime() - begin;
                            if (error == null) {
                                acked.increment();
                            } else {
                                failed.increment();
                                firstError.compareAndSet(null, String.valueOf(error));
                            }
                            window.release();
                        });
                    }
                    continue;
                }
                window.acquire();
                int slot = k++;
                long begin = System.nanoTime();
                target.append(producer, workload.streamOf(i), payload).whenComplete((ok, error) -> {
                    latency[slot] = System.nanoTime() - begin;
                    if (error == null) {
                        acked.increment();
                    } else {
                        failed.increment();
                        firstError.compareAndSet(null, String.valueOf(error));
                    }
                    window.release();
                });
            }
            window.acquire(inFlight); // every acknowledgement is in (and its latency written)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return k;
    }
}
