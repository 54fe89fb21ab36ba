package io.ringstore.bench;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.split.SplitterState;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Latency of reading a whole stream back (rebuilding an aggregate) while other streams take
 * appends. One store, one reader thread (this one), in phases:
 * <ol>
 * <li>the split set (each stream's events scattered through the log, as in real life) is
 *     appended and the splitter moves all of it to stream files (lag 0);</li>
 * <li>background ingest starts at a steady rate on other streams; the split set is read
 *     while the splitter runs;</li>
 * <li>a held gauge pauses the splitter; the unsplit set is appended and stays in the log tail;
 *     reads of the two sets alternate, and the splitter is checked to have moved nothing.</li>
 * </ol>
 * Every read is checked: the whole stream, versions 0..n-1 in order. Reads hit the page cache
 * (the files were just written); dropping caches would disturb other users of the machine.
 */
final class RehydrationRun {
    private static final long PAUSE_TIMEOUT_MILLIS = 10_000;
    private static final long LAG_ZERO_TIMEOUT_MILLIS = 300_000;
    /** Background ingest is generated for this long and stopped when the reads are done. */
    private static final int BACKGROUND_SECONDS = 900;

    private final SplitterBenchOptions options;
    private final PrintStream log;

    RehydrationRun(SplitterBenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    SplitterReport.Rehydration run(Path dir) throws IOException, InterruptedException {
        SplitterBenchOptions.Rehydrate r = options.rehydrate();
        SplitterBenchOptions.Load load = options.load();
        int depth = options.sweep().inFlight();
        Workload split = Workload.exact("split-", r.streamsPerSet(), r.eventsPerStream(), load.payloadBytes(),
                load.seed() + 1);
        Workload unsplit = Workload.exact("unsplit-", r.streamsPerSet(), r.eventsPerStream(), load.payloadBytes(),
                load.seed() + 2);
        Workload background = Workload.generate("bg-", (int) Math.min(Integer.MAX_VALUE - 8,
                (long) (r.ingestRate() * BACKGROUND_SECONDS)), load.streams(), load.payloadBytes(), load.seed() + 3);
        HeldGauge gauge = new HeldGauge();
        StoreConfig config = StoreConfig.defaults(dir).withPressureGauge(gauge).withSplitter(options.splitterOptions());
        try (StoreTarget target = StoreTarget.open(config)) {
            RingStore store = target.store();
            SplitterWatch watch = SplitterWatch.attach(store);
            check(new LoadDriver(target, split, load.producers(), depth).run(), split.events(), "split set");
            if (watch.awaitLagZero(LAG_ZERO_TIMEOUT_MILLIS, log, "split set to stream files", options.progressMillis()) < 0) {
                throw new IllegalStateException("the split set never reached the stream files: " + watch.status());
            }
            log.printf(Locale.ROOT, "  split set in stream files (%,d events split)%n", watch.status().eventsSplit());

            LoadDriver ingest = new LoadDriver(target, background, load.producers(), depth, r.ingestRate());
            AtomicReference<LoadDriver.Result> ingestResult = new AtomicReference<>();
            Thread ingestThread = Thread.ofPlatform().name("bench-ingest").start(() -> {
                try {
                    ingestResult.set(ingest.run());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Reads start once the ingest flows (a quarter second of it acknowledged).
            long warm = Math.max(1, (long) (r.ingestRate() / 4));
            while (ingest.completed() < warm && ingestThread.isAlive()) {
                Thread.sleep(5);
            }
            List<SplitterReport.ReadSet> sets = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(load.seed() + 4);
            Reads splitRunning = new Reads("split, splitter running");
            long t0 = System.nanoTime();
            long acked0 = ingest.completed();
            for (int i = 0; i < r.reads(); i++) {
                splitRunning.readWhole(store, split.streamName(random.nextInt(split.streams())), r.eventsPerStream());
            }
            sets.add(splitRunning.result(ingest.completed() - acked0, System.nanoTime() - t0));
            log.printf(Locale.ROOT, "  %s: p50 %d us, p99 %d us%n", splitRunning.label,
                    sets.getLast().p50Nanos() / 1000, sets.getLast().p99Nanos() / 1000);

            gauge.hold();
            if (!watch.awaitState(SplitterState.PAUSED_FOR_PRESSURE, PAUSE_TIMEOUT_MILLIS)) {
                throw new IllegalStateException("splitter did not pause under the held gauge: " + watch.status());
            }
            long splitBefore = watch.status().eventsSplit();
            check(new LoadDriver(target, unsplit, load.producers(), depth).run(), unsplit.events(), "unsplit set");
            log.printf(Locale.ROOT, "  unsplit set appended; splitter %s, lag %,d events%n", watch.status().state(),
                    watch.status().lagEvents());
            Reads splitPaused = new Reads("split, splitter paused");
            Reads unsplitPaused = new Reads("unsplit (log tail), splitter paused");
            t0 = System.nanoTime();
            acked0 = ingest.completed();
            for (int i = 0; i < r.reads(); i++) {
                splitPaused.readWhole(store, split.streamName(random.nextInt(split.streams())), r.eventsPerStream());
                unsplitPaused.readWhole(store, unsplit.streamName(random.nextInt(unsplit.streams())),
                        r.eventsPerStream());
            }
            long acked = ingest.completed() - acked0;
            long nanos = System.nanoTime() - t0;
            long splitDuring = watch.status().eventsSplit() - splitBefore;
            sets.add(splitPaused.result(acked, nanos));
            sets.add(unsplitPaused.result(acked, nanos));
            for (SplitterReport.ReadSet s : sets.subList(1, 3)) {
                log.printf(Locale.ROOT, "  %s: p50 %d us, p99 %d us%n", s.label(), s.p50Nanos() / 1000,
                        s.p99Nanos() / 1000);
            }
            ingest.stop();
            ingestThread.join();
            gauge.release();
            return new SplitterReport.Rehydration(r.streamsPerSet(), r.eventsPerStream(), r.ingestRate(),
                    List.copyOf(sets), splitDuring, ingestResult.get());
        }
    }

    private static void check(LoadDriver.Result result, int events, String what) {
        if (result.acked() != events) {
            throw new IllegalStateException(what + ": " + result.acked() + " of " + events + " appends acknowledged; "
                    + "first error: " + result.firstError());
        }
    }

    /** Timed whole-stream reads of one set, each checked. */
    private static final class Reads {
        private final String label;
        private long[] nanos = new long[1024];
        private int n;
        private int wrong;
        private String firstWrong;

        Reads(String label) {
            this.label = label;
        }

        void readWhole(RingStore store, String stream, int events) {
            long start = System.nanoTime();
            String problem;
            try {
                StreamSlice slice = store.readStream(stream, 0, events, Direction.FORWARD);
                long took = System.nanoTime() - start;
                problem = problem(slice, events);
                record(took);
            } catch (RuntimeException e) {
                record(System.nanoTime() - start);
                problem = e.toString();
            }
            if (problem != null) {
                wrong++;
                if (firstWrong == null) {
                    firstWrong = "stream=" + stream + ": " + problem;
                }
            }
        }

        private static String problem(StreamSlice slice, int events) {
            List<LogRecord> got = slice.events();
            if (got.size() != events) {
                return got.size() + " events instead of " + events;
            }
            for (int v = 0; v < events; v++) {
                if (got.get(v).getVersion() != v) {
                    return "version " + got.get(v).getVersion() + " at index " + v;
                }
            }
            return null;
        }

        private void record(long took) {
            if (n == nanos.length) {
                nanos = Arrays.copyOf(nanos, n * 2);
            }
            nanos[n++] = took;
        }

        SplitterReport.ReadSet result(long ingestAcked, long phaseNanos) {
            long[] sorted = Arrays.copyOf(nanos, n);
            Arrays.sort(sorted);
            return new SplitterReport.ReadSet(label, n, wrong, firstWrong, Percentiles.of(sorted, 0.50),
                    Percentiles.of(sorted, 0.99), n == 0 ? 0 : sorted[n - 1], ingestAcked / (phaseNanos / 1e9));
        }
    }
}
