package io.ringstore.bench;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs the workload against one target: {@code producers} threads, producer p appending events
 * p, p + producers, p + 2 * producers, ... and keeping at most {@code inFlight} appends
 * unacknowledged (a semaphore per producer, released by the acknowledgement). Latency is from
 * just before {@code append} to the acknowledgement callback. The clock runs from the moment all
 * producers are released to the moment the last acknowledgement has arrived.
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
    private final LongAdder acked = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();

    LoadDriver(AppendTarget target, Workload workload, int producers, int inFlight) {
        this.target = target;
        this.workload = workload;
        this.producers = producers;
        this.inFlight = inFlight;
    }

    /** Acknowledgements so far (successful or not), for progress lines. */
    long completed() {
        return acked.sum() + failed.sum();
    }

    Result run() throws InterruptedException {
        int events = workload.events();
        long[][] latencies = new long[producers][];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++) {
            int producer = p;
            latencies[p] = new long[(events - p + producers - 1) / producers];
            threads[p] = Thread.ofPlatform().name("bench-producer-" + p).unstarted(
                    () -> produce(producer, latencies[producer], go));
            threads[p].start();
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.nanoTime() - start;
        long[] all = new long[events];
        int n = 0;
        for (long[] l : latencies) {
            System.arraycopy(l, 0, all, n, l.length);
            n += l.length;
        }
        Arrays.sort(all);
        return new Result(acked.sum(), failed.sum(), firstError.get(), elapsed, Percentiles.of(all, 0.50),
                Percentiles.of(all, 0.99), all.length == 0 ? 0 : all[all.length - 1]);
    }

    private void produce(int producer, long[] latency, CountDownLatch go) {
        Semaphore window = new Semaphore(inFlight);
        try {
            go.await();
            byte[] payload = workload.payload();
            int k = 0;
            for (int i = producer; i < workload.events(); i += producers) {
                window.acquire();
                int slot = k++;
                long begin = System.nanoTime();
                target.append(workload.streamOf(i), payload).whenComplete((ok, error) -> {
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
    }
}
