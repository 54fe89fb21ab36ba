package io.ringstore.retention;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 8's measurements, in-process against a real folder, with the standard workload
 * (256-byte events, 10,000 streams, 8 producers with 32 appends in flight each). Not a test:
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat cp.txt) io.ringstore.retention.RetentionBenchmark throughput DIR [PHASE_SECONDS] [ROUNDS]
 * java -cp ... io.ringstore.retention.RetentionBenchmark budget DIR MINUTES [MAX_COUNT [EVENTS_PER_SECOND]]
 * java -cp ... io.ringstore.retention.RetentionBenchmark scale DIR [STREAMS]
 * </pre>
 * scale: STREAMS (default 100,000) streams of 24 events each (so dropping all but 3 is worth a
 * rewrite: at least 4 KiB), split; then a limit of their own
 * (max_count=3) on every one; prints the heap in use, the time a restart takes with that many
 * limits to load, and how long the compactor takes to bring every file within its limit.
 * throughput: writes 60 events per stream and lets the splitter catch up, sets max_count=20 on
 * every stream (so every file is worth rewriting), then writes at full speed in phases that
 * alternate the compactor paused and running, printing events/s and rewrites per phase.
 * budget: 1 GiB disk budget, every stream limited by the prefix rule max_count=N (default 100),
 * default log retention; writes at full speed until the first refused append or MINUTES, printing
 * usage every 10 s. Both use a calm pressure gauge (see throughput()).
 */
public final class RetentionBenchmark {
    static final int STREAMS = 10_000;
    static final int PRODUCERS = 8;
    static final int IN_FLIGHT = 32;

    private RetentionBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (Files.exists(dir.resolve("log"))) {
            throw new IllegalArgumentException("use an empty folder: " + dir);
        }
        switch (args[0]) {
            case "throughput" -> throughput(dir, args.length > 2 ? Integer.parseInt(args[2]) : 15,
                    args.length > 3 ? Integer.parseInt(args[3]) : 3);
            case "budget" -> budget(dir, Double.parseDouble(args[2]), args.length > 3 ? Long.parseLong(args[3]) : 100,
                    args.length > 4 ? Double.parseDouble(args[4]) : 0);
            case "scale" -> scale(dir, args.length > 2 ? Integer.parseInt(args[2]) : 100_000);
            default -> throw new IllegalArgumentException("throughput, budget or scale");
        }
    }

    /** Producers that append the standard workload until stopped. */
    static final class Load implements AutoCloseable {
        final AtomicLong events = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread[] threads = new Thread[PRODUCERS];

        Load(RingStore store) {
            this(store, 0);
        }

        /** {@code rate} events/s in all (0: as fast as the in-flight window allows). */
        Load(RingStore store, double rate) {
            for (int p = 0; p < PRODUCERS; p++) {
                long seed = p;
                threads[p] = Thread.ofPlatform().name("load-" + p).start(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    byte[] payload = new byte[256];
                    Semaphore window = new Semaphore(IN_FLIGHT);
                    long intervalNanos = rate > 0 ? (long) (1e9 * PRODUCERS / rate) : 0;
                    long next = System.nanoTime();
                    while (!stop.get()) {
                        if (intervalNanos > 0) {
                            next += intervalNanos;
                            long wait = next - System.nanoTime();
                            if (wait > 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(wait);
                            }
                        }
                        window.acquireUninterruptibly();
                        random.nextBytes(payload);
                        String stream = "stream-" + random.nextInt(STREAMS);
                        CompletableFuture<?> f = store.append(stream, ExpectedVersion.ANY,
                                List.of(EventData.of("bench", payload.clone())));
                        f.whenComplete((r, e) -> {
                            window.release();
                            if (e == null) {
                                events.incrementAndGet();
                            } else if (e.getCause() instanceof RingStoreException x && x.code() == ErrorCode.STORAGE_FULL
                                    || e instanceof RingStoreException y && y.code() == ErrorCode.STORAGE_FULL) {
                                refused.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                            }
                        });
                    }
                    window.acquireUninterruptibly(IN_FLIGHT);
                });
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    static void throughput(Path dir, int phaseSeconds, int rounds) throws Exception {
        // A calm gauge: on this shared machine PSI shows pressure from other people's builds, which
        // would pause the splitter and the compactor with it (the measurement would be of nothing).
        StoreConfig config = StoreConfig.defaults(dir).withPressureGauge(() -> io.ringstore.split.PressureReading.CALM)
                .withRetention(RetentionOptions.defaults().withCompactInterval(2_000));
        try (RingStore store = RingStore.open(config)) {
            // Warm-up: about 60 events in every stream, then let the splitter catch up, so every
            // stream file is worth rewriting once the limit is set.
            Load warm = new Load(store);
            long w0 = System.nanoTime();
            while (warm.events.get() < 60L * STREAMS) {
                Thread.sleep(100);
            }
            warm.close();
            System.out.printf(Locale.ROOT, "warm-up: %d events in %.1f s%n", warm.events.get(), (System.nanoTime() - w0) / 1e9);
            while (store.splitterStatus().lagEvents() > 0) {
                Thread.sleep(100);
            }
            System.out.printf(Locale.ROOT, "split after %.1f s%n", (System.nanoTime() - w0) / 1e9);
            store.compactor().setPaused(true);
            CompletableFuture<?>[] sets = new CompletableFuture<?>[STREAMS];
            for (int i = 0; i < STREAMS; i++) {
                sets[i] = store.setLimits("stream-" + i, new StreamLimits(20, StreamLimits.UNSET, StreamLimits.UNSET, false));
            }
            CompletableFuture.allOf(sets).join();
            System.out.println("max_count=20 set on every stream");
            System.out.println("phase  compactor  events/s  files_rewritten  stream_MiB_freed  splitter_lag_events");
            Load load = new Load(store);
            for (int round = 0; round < rounds; round++) {
                for (boolean paused : new boolean[] {true, false}) {
                    store.compactor().setPaused(paused);
                    StreamCompactor.Stats s0 = store.compactor().stats();
                    long e0 = load.events.get();
                    long t0 = System.nanoTime();
                    Thread.sleep(phaseSeconds * 1000L);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    long e1 = load.events.get();
                    StreamCompactor.Stats s1 = store.compactor().stats();
                    System.out.printf(Locale.ROOT, "%5d  %-9s  %8.0f  %15d  %16.1f  %d%n", round, paused ? "paused" : "running",
                            (e1 - e0) / secs, s1.filesRewritten() - s0.filesRewritten(),
                            (s1.streamBytesFreed() - s0.streamBytesFreed()) / 1048576.0, store.splitterStatus().lagEvents());
                }
            }
            load.close();
            System.out.printf("failed appends: %d%n", load.failed.get());
        }
    }

    static void budget(Path dir, double minutes, long maxCount, double rate) throws Exception {
        RetentionOptions retention = RetentionOptions.defaults()
                .withPrefixes(RetentionOptions.parsePrefixes("stream-: max_count=" + maxCount))
                .withBudget(1L << 30, 0, RetentionOptions.defaults().lowWaterPercent());
        StoreConfig config = StoreConfig.defaults(dir).withPressureGauge(() -> io.ringstore.split.PressureReading.CALM)
                .withRetention(retention);
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        try (RingStore store = RingStore.open(config); Load load = new Load(store, rate)) {
            System.out.println("min    events      GiB_appended  usage_MiB  segments  refused  rewritten  log_early  order");
            while (System.nanoTime() < end && load.refused.get() == 0) {
                long left = (end - System.nanoTime()) / 1_000_000;
                for (long slept = 0; slept < Math.min(10_000, left) && load.refused.get() == 0; slept += 100) {
                    Thread.sleep(100);
                }
                print(store, load, start);
            }
            print(store, load, start);
            System.out.printf("first refusal: %s; failed appends: %d%n",
                    load.refused.get() > 0 ? String.format(Locale.ROOT, "after %.1f min", (System.nanoTime() - start) / 60e9)
                            : "none", load.failed.get());
        }
    }

    static void scale(Path dir, int streams) throws Exception {
        StoreConfig config = StoreConfig.defaults(dir).withPressureGauge(() -> io.ringstore.split.PressureReading.CALM)
                .withRetention(RetentionOptions.defaults().withCompactInterval(1_000));
        byte[] payload = new byte[256];
        long t0 = System.nanoTime();
        try (RingStore store = RingStore.open(config)) {
            store.compactor().setPaused(true);
            Semaphore window = new Semaphore(256);
            for (int i = 0; i < streams; i++) {
                List<EventData> events = new java.util.ArrayList<>();
                for (int v = 0; v < 24; v++) {
                    events.add(EventData.of("e", payload));
                }
                window.acquireUninterruptibly();
                store.append("stream-" + i, ExpectedVersion.ANY, events).whenComplete((r, e) -> window.release());
            }
            window.acquireUninterruptibly(256);
            window.release(256);
            store.splitter().drain();
            while (store.splitterStatus().lagEvents() > 0) {
                Thread.sleep(100);
            }
            System.out.printf(Locale.ROOT, "%d streams x 24 events written and split in %.1f s%n", streams,
                    (System.nanoTime() - t0) / 1e9);
            long heapNoLimits = usedHeap();
            long t1 = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                window.acquireUninterruptibly();
                store.setLimits("stream-" + i, new StreamLimits(3, StreamLimits.UNSET, StreamLimits.UNSET, false))
                        .whenComplete((r, e) -> window.release());
            }
            window.acquireUninterruptibly(256);
            System.out.printf(Locale.ROOT, "own limits set on every stream in %.1f s; heap in use %.1f MiB before, %.1f MiB after%n",
                    (System.nanoTime() - t1) / 1e9, heapNoLimits / 1048576.0, usedHeap() / 1048576.0);
        }
        long t2 = System.nanoTime();
        try (RingStore store = RingStore.open(config)) {
            System.out.printf(Locale.ROOT, "restart with %d limits: open took %.2f s; heap in use %.1f MiB%n", streams,
                    (System.nanoTime() - t2) / 1e9, usedHeap() / 1048576.0);
            long t3 = System.nanoTime();
            while (store.compactor().stats().filesRewritten() < streams && System.nanoTime() - t3 < 600e9) {
                Thread.sleep(200);
            }
            StreamCompactor.Stats st = store.compactor().stats();
            System.out.printf(Locale.ROOT, "compactor: %d of %d files rewritten in %.1f s (%d passes, %.1f MiB freed)%n",
                    st.filesRewritten(), streams, (System.nanoTime() - t3) / 1e9, st.passes(), st.streamBytesFreed() / 1048576.0);
            int checked = 0;
            for (int i = 0; i < streams; i += Math.max(1, streams / 1000)) {
                var events = store.readStream("stream-" + i, 0, 100, io.ringstore.read.Direction.FORWARD).events();
                if (events.size() != 3 || events.getFirst().getVersion() != 21) {
                    throw new IllegalStateException("stream-" + i + " reads " + events.size() + " events");
                }
                checked++;
            }
            System.out.printf("reads: %d streams checked, each exactly its last 3 events%n", checked);
        }
    }

    private static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static void print(RingStore store, Load load, long start) {
        StreamCompactor.Stats s = store.compactor().stats();
        long events = load.events.get();
        String order = s.order();
        System.out.printf(Locale.ROOT, "%5.1f  %10d  %12.2f  %9.0f  %8d  %7d  %9d  %9d  %s lag=%d lag_mib=%.0f held_s=%.1f%n",
                (System.nanoTime() - start) / 60e9, events, events * 256.0 / (1L << 30),
                store.retention().budget().usageBytes() / 1048576.0, store.status().segments(), load.refused.get(),
                s.filesRewritten(), s.logSegmentsEarly(), order.length() > 12 ? order.substring(order.length() - 12) : order,
                store.splitterStatus().lagEvents(), store.splitterStatus().lagBytes() / 1048576.0,
                store.writerStats().throttledMillis() / 1000.0);
    }
}
