package io.ringstore.bench;

import io.ringstore.store.StoreConfig;
import io.ringstore.writer.WriterOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Runs issue 7's comparison: the 4 KiB fsync probe, then at each in-flight depth every target in
 * turn (the order reverses between depths so no target always goes first), then the stream-count
 * sweep. Each configuration runs in a fresh subfolder of the same folder, deleted afterwards:
 * open, a warm-up ({@link WarmUp}) settled and synced, then one device window
 * ({@link DeviceWindow}: sync, idle sample, appends, read warm-up and timed reads under
 * background appends, the splitter's drain, close, sync), so the device bytes hold every write
 * the measured work caused and none of the warm-up's.
 */
final class BenchRunner {
    private static final Path DEFAULT_PARENT = Path.of("/var/tmp");
    /**
     * Long streams the warm-up appends half its events to (named "warm-...", apart from the
     * measured ones); the other half spreads over as many streams as the measured work does, up
     * to {@link #WARMUP_WIDE_STREAMS_MAX}.
     */
    private static final int WARMUP_STREAMS = 100;
    /**
     * At most this many streams for the warm-up's other half: enough new streams for the JIT to
     * compile a stream's first event, few enough that a row keeps about the stream count it is
     * named for. At 10,000 a 100,000-stream row ran with a doubled table (under {@code --pi} its
     * 64 MiB heap spent 1.7 us of GC per measured event instead of 0.7), and the socket 8x1 row,
     * with 10,000 stream files more on disk, wrote 8.6 device bytes per payload byte against 7.6-7.9.
     */
    private static final int WARMUP_WIDE_STREAMS_MAX = 1_000;
    /** Threads deleting a configuration's files. */
    private static final int DELETE_THREADS = 8;
    /** Longest wait for a store's splitter to move everything to stream files after a run. */
    static final long SETTLE_TIMEOUT_MILLIS = 600_000;

    private final BenchOptions options;
    private final PrintStream log;
    private DeviceWriteCounter device;
    private SqliteDriver sqlite;
    private String sqliteVersion;
    private int configurations;
    private int done;
    private Path keys;
    private BlkioThrottle throttle;

    BenchRunner(BenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    BenchReport run() throws IOException, InterruptedException {
        boolean ownFolder = options.dir() == null;
        Path root = ownFolder ? createTempFolder(log) : Files.createDirectories(options.dir());
        try {
            device = DeviceWriteCounter.forFolder(root);
            if (options.targets().stream().anyMatch(t -> BenchOptions.ackModeOf(t) != null)) {
                keys = ReplicaPair.makeKeys(root.resolve("keys"));
            }
            if (options.sdCard() != null) {
                long[] limit = BlkioThrottle.parse(options.sdCard());
                throttle = BlkioThrottle.create(root, "ringstore-bench-" + ProcessHandle.current().pid(), limit[0],
                        limit[1]);
                log.println("bench: SD-card imitation: " + throttle.describe());
            }
            log.println("bench: folder=" + root + " device=" + device.name()
                    + (device.available() ? "" : " (device bytes n/a: " + device.reason() + ")")
                    + (options.pi() ? " pi profile: " + JavaChild.piDescription() : ""));
            List<String> targets = new ArrayList<>(options.targets());
            List<String> sweepTargets = new ArrayList<>(options.sweepTargets());
            String sqliteNote = findSqlite(targets, sweepTargets);
            Workload workload = Workload.generate(options.events(), options.streams(), options.payloadBytes(),
                    options.seed());
            int bodyBytes = PlainFileLog.comparableBodyLength(workload);
            String durability = StoreConfig.defaults(root).writer().durability().name().toLowerCase(Locale.ROOT);
            log.printf(Locale.ROOT, "bench: %,d events x %d B payload over %,d streams (%,d used, seed %d), "
                            + "%d producers, in-flight %s, targets %s, store durability %s%n",
                    options.events(), options.payloadBytes(), options.streams(), workload.streamsUsed(),
                    options.seed(), options.producers(), options.inFlight(), targets, durability);
            configurations = options.inFlight().size() * targets.size()
                    - (targets.contains("socket-multi") && options.inFlight().contains(1) ? 1 : 0)
                    + options.sweepStreams().size() * sweepTargets.size();

            FsyncProbe.Result fsync = null;
            if (options.fsyncWrites() > 0) {
                fsync = FsyncProbe.run(root.resolve("fsync-probe"), options.fsyncWrites(), options.seed());
                log.printf(Locale.ROOT, "[storage] 4 KiB write + fdatasync x %d: p50 %,d us, p99 %,d us, max %,d us%n",
                        fsync.writes(), fsync.p50Micros(), fsync.p99Micros(), fsync.maxMicros());
            }
            List<ConfigResult> rows = new ArrayList<>();
            boolean forward = true;
            for (int depth : options.inFlight()) {
                boolean reads = options.reads() > 0 && depth == options.readDepth();
                for (String target : forward ? targets : targets.reversed()) {
                    if (target.equals("socket-multi") && depth == 1) {
                        continue; // one in flight is one event per request: the socket row itself
                    }
                    Workload w = workload.first(options.eventsAt(target, depth));
                    rows.add(measure(target, depth, w, root.resolve(target + "-inflight-" + depth), reads));
                }
                forward = !forward;
            }
            List<ConfigResult> sweep = new ArrayList<>();
            int sweepDepth = options.readDepth();
            for (int streams : options.sweepStreams()) {
                Workload w = Workload.generate("sweep-", options.sweepEvents(), streams, options.payloadBytes(),
                        options.seed());
                for (String target : sweepTargets) {
                    sweep.add(measure(target, sweepDepth, w, root.resolve("sweep-" + streams + "-" + target), false));
                }
            }
            BenchReport.Environment env = new BenchReport.Environment(root.toString(), device.name(),
                    device.reason(), durability, bodyBytes, workload.streamsUsed(),
                    "java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                            + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", "
                            + Runtime.getRuntime().availableProcessors() + " cpus, heap max "
                            + ProcessMemory.heapMaxBytes() / (1024 * 1024) + " MiB",
                    sqliteVersion != null ? sqliteVersion + " (driver from " + sqlite.source() + ")" : sqliteNote,
                    options.pi() ? JavaChild.piDescription() : null);
            return new BenchReport(options, env, List.copyOf(rows), List.copyOf(sweep), fsync);
        } finally {
            if (throttle != null) {
                throttle.close();
            }
            if (ownFolder) {
                deleteTree(root);
            }
        }
    }

    /** Loads the SQLite driver if SQLite is to run; when it cannot be found, drops SQLite and says why. */
    private String findSqlite(List<String> targets, List<String> sweepTargets) {
        if (!targets.contains("sqlite") && !sweepTargets.contains("sqlite")) {
            return "not run (not among the targets)";
        }
        try {
            sqlite = SqliteDriver.find(options.sqliteJar());
            return null;
        } catch (IOException e) {
            log.println("bench: SQLite NOT RUN: " + e.getMessage());
            targets.remove("sqlite");
            sweepTargets.remove("sqlite");
            return "not run: " + e.getMessage();
        }
    }

    /** A fresh folder under /var/tmp (on the disk, unlike /tmp on many systems). */
    static Path createTempFolder(PrintStream log) throws IOException {
        Path parent = DEFAULT_PARENT;
        if (!Files.isDirectory(parent)) {
            parent = Path.of(System.getProperty("java.io.tmpdir"));
            log.println("bench: /var/tmp does not exist, using " + parent);
        }
        return Files.createTempDirectory(parent, "ringstore-bench-");
    }

    private ConfigResult measure(String label, int depth, Workload workload, Path dir, boolean timeReads)
            throws IOException, InterruptedException {
        done++;
        log.printf(Locale.ROOT, "[%d/%d] %s, %,d events over %,d streams, in-flight %d%n", done, configurations,
                label, workload.events(), workload.streams(), depth);
        Files.createDirectories(dir);
        Phases phases = new Phases();
        System.gc();
        boolean rssPerRun = ProcessMemory.resetPeakRss();
        AppendTarget target = open(label, dir, workload, depth);
        phases.end("open");
        DeviceWindow window = null;
        WarmUp.Result warmAppends;
        WarmUp.Result warmReads = WarmUp.Result.NONE;
        LoadDriver.Result result;
        long liveHeap;
        long peakRss;
        CpuUsage.Sample cpu;
        double childCpu;
        String threadCpu;
        SplitterReport.ReadSet reads = null;
        SplitterReport.ReadSet longRead = null;
        long otherAcked = 0; // background and long-stream appends: device bytes are counted against them too
        long unsplit;
        InService.Result aged = null;
        AppendTarget.LogRolls rollsBefore = null;
        AppendTarget.LogRolls windowRolls = null;
        BatchStats batchingBefore;
        try {
            if (options.inService() != null && InService.logFolder(label, dir) != null) {
                aged = InService.age(target, options, log);
                phases.end("aging");
            }
            warmAppends = WarmUp.run(storePid(target), options.warmupFor(workload.events()), options.warmupSeconds(),
                    (round, size) -> new LoadDriver(target, Workload.warmUp("warm-", size, WARMUP_STREAMS,
                            Math.min(workload.streams(), WARMUP_WIDE_STREAMS_MAX), options.payloadBytes(),
                            options.seed() + 5 + round), options.producers(), depth).run().acked());
            phases.end("warm-up");
            // The device window starts after the warm-up, its writes settled and synced (the
            // store's splitter drained, SQLite's WAL checkpointed): a long warm-up to a hundred
            // streams would otherwise count its own, cheaper, bytes per payload byte.
            target.settle(SETTLE_TIMEOUT_MILLIS, options.drainStallMillis(), log, options.progressMillis());
            // Batching counted from here on, as the device bytes are (the warm-up and aging are not the row's).
            rollsBefore = target.logRolls();
            batchingBefore = target.stats();
            if (aged != null && options.inService().equals("cold")) {
                InService.dropLogCache(InService.logFolder(label, dir));
            }
            window = DeviceWindow.start(device, options.idleMillis());
            phases.end("idle sample");
            LoadDriver driver = new LoadDriver(target, workload, options.producers(), depth);
            double childCpuBefore = target.childCpuSeconds();
            ThreadCpu selfThreads = ThreadCpu.start(ProcessHandle.current().pid());
            ThreadCpu childThreads = target.childPid() > 0 ? ThreadCpu.start(target.childPid()) : null;
            CpuUsage cpuWindow = CpuUsage.start();
            try (ProgressReporter progress = ProgressReporter.start(log, label + " in-flight " + depth,
                    workload.events(), driver::completed, options.progressMillis())) {
                result = driver.run();
            }
            cpu = cpuWindow.stop();
            if (rollsBefore != null) {
                windowRolls = target.logRolls().since(rollsBefore);
            }
            Map<String, double[]> childGroups = childThreads == null ? null : childThreads.stop();
            Map<String, double[]> selfGroups = selfThreads.stop();
            phases.end("appends");
            childCpu = target.childCpuSeconds() - childCpuBefore;
            threadCpu = (childGroups == null ? "" : "daemon: " + ThreadCpu.perEvent(childGroups, result.acked(), childCpu)
                    + "; bench: ") + ThreadCpu.perEvent(selfGroups, result.acked(), cpu.selfSeconds());
            if (childCpu > 0 && cpu.otherSeconds() >= 0) { // the daemon's CPU is the target's, not others'
                cpu = new CpuUsage.Sample(cpu.selfSeconds(), Math.max(0, cpu.otherSeconds() - childCpu),
                        cpu.wallSeconds(), cpu.cpus());
            }
            if (timeReads && target instanceof StreamSource source) {
                BackgroundIngest ingest = BackgroundIngest.start(target, options.streams(), options.payloadBytes(),
                        options.seed() + 3, options.producers(), depth, options.ingestRate());
                warmReads = warmReads(storePid(target), source, workload, warmAppends.units() > 0);
                phases.end("read warm-up");
                reads = timeReads(source, workload, ingest);
                otherAcked += ingest.stop().acked();
                phases.end("reads");
                int longEvents = longStreamEvents();
                if (longEvents > 0) {
                    Workload one = Workload.exact("long-", 1, longEvents, options.payloadBytes(), options.seed() + 6);
                    otherAcked += new LoadDriver(target, one, options.producers(), depth).run().acked();
                    longRead = timeLongRead(source, one);
                    phases.end("long-stream reads");
                }
            }
            unsplit = target.settle(SETTLE_TIMEOUT_MILLIS, options.drainStallMillis(), log, options.progressMillis());
            phases.end("drain");
            liveHeap = ProcessMemory.liveHeapBytes();
            peakRss = ProcessMemory.peakRssBytes();
        } finally {
            target.close();
        }
        phases.end("close");
        BatchStats batching = target.stats().since(batchingBefore);
        long childRss = target.childPeakRssBytes();
        DeviceWrites writes = window.end((result.acked() + otherAcked) * workload.payloadBytes());
        phases.end("sync");
        deleteTree(dir);
        phases.end("delete");

        ConfigResult row = new ConfigResult(label, workload.streams(), depth, workload.payloadBytes(), result,
                batching, writes, new ProcessMemory.Sample(liveHeap, childRss >= 0 ? childRss : peakRss,
                        childRss >= 0 || rssPerRun), cpu, childCpu, reads, unsplit, longRead);
        log.printf(Locale.ROOT, "  warm-up: %s%s%n", warmAppends.describe("appends"),
                reads == null ? "" : "; before the timed reads: " + warmReads.describe("reads"));
        log.printf(Locale.ROOT, "  done in %s: %,.0f ev/s, p50 %,d us, p99 %,d us, %.1f ev/force, device %.2f B/B, "
                        + "%.1f cpu us/ev, others %.0f%% cpu%s%s%s%s%n",
                phases, row.eventsPerSecond(), result.latencyP50Nanos() / 1000, result.latencyP99Nanos() / 1000,
                batching.eventsPerForce(), writes.bytesPerPayloadByte(), row.cpuMicrosPerEvent(), 100 * cpu.otherShare(),
                reads == null ? "" : String.format(Locale.ROOT, ", reads p50 %,d us p99 %,d us%s", reads.p50Nanos() / 1000,
                        reads.p99Nanos() / 1000, reads.wrong() > 0 ? " (" + reads.wrong() + " WRONG: " + reads.firstWrong() + ")" : ""),
                longRead == null ? "" : String.format(Locale.ROOT, ", %,d-event stream read median %,.0f ev/s%s",
                        longStreamEvents(), longStreamEvents() / (longRead.p50Nanos() / 1e9),
                        longRead.wrong() > 0 ? " (" + longRead.wrong() + " WRONG: " + longRead.firstWrong() + ")" : ""),
                unsplit == 0 ? "" : String.format(Locale.ROOT, ", %,d events NOT split (splitter held)", unsplit),
                result.failed() > 0 ? ", " + result.failed() + " FAILED (first: " + result.firstError() + ")" : "");
        if (aged != null) {
            log.println("  in service: aged with " + aged.describe());
        }
        if (windowRolls != null) {
            log.println("  during the appends: " + windowRolls.describe());
        }
        if (result.acked() > 0 && !threadCpu.isEmpty()) {
            log.println("  cpu us/ev by thread during the appends: " + threadCpu);
        }
        return row;
    }

    /** Whole-stream reads of random streams of the workload (each must come back complete) while {@code ingest} runs. */
    private SplitterReport.ReadSet timeReads(StreamSource source, Workload workload, BackgroundIngest ingest) {
        int[] counts = workload.eventsPerStream();
        int[] used = java.util.stream.IntStream.range(0, counts.length).filter(s -> counts[s] > 0).toArray();
        SplittableRandom random = new SplittableRandom(options.seed() + 4);
        ReadTimer timer = new ReadTimer("whole streams, under " + (long) options.ingestRate() + " ev/s of appends");
        long t0 = System.nanoTime();
        long acked0 = ingest.completed();
        for (int i = 0; i < options.reads(); i++) {
            int s = used[random.nextInt(used.length)];
            timer.readWhole(source, workload.streamName(s), counts[s]);
        }
        return timer.result(ingest.completed() - acked0, System.nanoTime() - t0);
    }

    /**
     * Untimed whole-stream reads before the timed ones, while the background appends go on: the
     * read path warms up, as in service (see {@link WarmUp}). Every {@value #LONG_WARM_READ_EVERY}th
     * reads one of the append warm-up's streams whole instead (thousands of events, several
     * pages): a service reads long streams too, and a read path compiled on short reads alone
     * deoptimised and recompiled inside the timed long-stream reads (LogCompilation: about 125
     * compilations and 45 uncommon traps there, RopeByteString.concatenate, the page-full branch).
     */
    private WarmUp.Result warmReads(long pid, StreamSource source, Workload workload, boolean longStreams)
            throws IOException, InterruptedException {
        int[] counts = workload.eventsPerStream();
        int[] used = java.util.stream.IntStream.range(0, counts.length).filter(s -> counts[s] > 0).toArray();
        String[] warmStreams = Workload.names("warm-", WARMUP_STREAMS);
        SplittableRandom random = new SplittableRandom(options.seed() + 7);
        ReadTimer untimed = new ReadTimer("warm-up");
        int[] done = {0};
        return WarmUp.run(pid, options.reads() / 10, options.warmupSeconds(), (round, size) -> {
            for (int i = 0; i < size; i++) {
                if (longStreams && ++done[0] % LONG_WARM_READ_EVERY == 0) {
                    source.readWhole(warmStreams[random.nextInt(warmStreams.length)]);
                } else {
                    int s = used[random.nextInt(used.length)];
                    untimed.readWhole(source, workload.streamName(s), counts[s]);
                }
            }
            return size;
        });
    }

    private static final int LONG_WARM_READ_EVERY = 20;

    /** The process that holds the target's data: its daemon child, or this JVM. */
    private static long storePid(AppendTarget target) {
        return target.childPid() > 0 ? target.childPid() : ProcessHandle.current().pid();
    }

    /**
     * Events of the one long stream read whole after the timed reads (issue 19: a 100,000-event
     * stream at 1,000,000 events/s or more): a tenth of the run's events, 100,000 in the full run.
     */
    private int longStreamEvents() {
        return longStreamEvents(options);
    }

    static int longStreamEvents(BenchOptions options) {
        return options.reads() == 0 ? 0 : (int) Math.min(LONG_STREAM_EVENTS, options.events() / 10);
    }

    private static final int LONG_STREAM_EVENTS = 100_000;
    private static final int LONG_STREAM_READS = 3;

    /**
     * Reads the long stream whole {@link #LONG_STREAM_READS} times, after one untimed read (as a
     * service that has read before); each read checked complete and in order. Straight after its
     * appends: part of it is in its stream file, the rest in the log tail, as in service.
     */
    private SplitterReport.ReadSet timeLongRead(StreamSource source, Workload one) {
        String stream = one.streamName(0);
        int events = one.eventsPerStream()[0];
        new ReadTimer("warm-up").readWhole(source, stream, events);
        ReadTimer timer = new ReadTimer(String.format(Locale.ROOT, "one %,d-event stream", events));
        long t0 = System.nanoTime();
        for (int i = 0; i < LONG_STREAM_READS; i++) {
            timer.readWhole(source, stream, events);
        }
        return timer.result(0, System.nanoTime() - t0);
    }

    private AppendTarget open(String label, Path dir, Workload workload, int depth)
            throws IOException, InterruptedException {
        // Same queue capacity and batch limit as the store's writer, so batching is comparable.
        WriterOptions writer = WriterOptions.defaults();
        return switch (label) {
            case "store" -> StoreTarget.open(dir);
            case "socket", "socket-multi" -> {
                SocketTarget t = SocketTarget.open(dir, options.producers(), options.pi(), options.daemonJavaOptions(),
                        label.equals("socket-multi"));
                if (throttle != null) {
                    throttle.add(t.daemonPid());
                }
                yield t;
            }
            case "pair-local", "pair-memory", "pair-durable" -> {
                String mode = BenchOptions.ackModeOf(label);
                ReplicaPair pair = ReplicaPair.start(dir, keys, mode, mode, options.pi(), options.daemonJavaOptions(),
                        List.of(), throttle);
                yield SocketTarget.openPrimary(pair, options.producers(), label);
            }
            case "json" -> JsonSocketTarget.open(dir, options.producers(), options.pi(), options.daemonJavaOptions());
            case "sqlite" -> {
                SqliteTarget t = SqliteTarget.open(sqlite, dir.resolve("events.db"), writer.queueCapacity(),
                        writer.maxBatch());
                sqliteVersion = t.version();
                yield t;
            }
            case "naive" -> NaiveStreamFiles.open(dir, options.producers(), depth,
                    PlainFileLog.comparableBodyLength(workload));
            case "limit" -> PlainFileLog.open(dir.resolve("limit.log"), workload.events(),
                    PlainFileLog.comparableBodyLength(workload), writer.queueCapacity(), writer.maxBatch());
            default -> throw new IllegalArgumentException("unknown target: " + label);
        };
    }

    /** Where a configuration's wall time went, for the progress lines. */
    private static final class Phases {
        private final long start = System.nanoTime();
        private final StringBuilder text = new StringBuilder();
        private long last = start;

        void end(String phase) {
            long now = System.nanoTime();
            text.append(text.isEmpty() ? "" : ", ").append(phase)
                    .append(String.format(Locale.ROOT, " %.1f", (now - last) / 1e9));
            last = now;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.1f s (%s)", (System.nanoTime() - start) / 1e9, text);
        }
    }

    /**
     * Deletes a folder and everything in it. Files go on {@link #DELETE_THREADS} threads: an
     * unlink here waits on the filesystem journal (busy with others' writes on a shared machine),
     * and 10,000 stream files deleted one by one took 10-20 s, several times the run they followed.
     */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> folders = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(root)) {
            paths.forEach(p -> (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? folders : files).add(p));
        }
        if (files.size() < DELETE_THREADS * 16) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        } else {
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(DELETE_THREADS)) {
                List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
                int per = (files.size() + DELETE_THREADS - 1) / DELETE_THREADS;
                for (int i = 0; i < files.size(); i += per) {
                    List<Path> part = files.subList(i, Math.min(files.size(), i + per));
                    parts.add(pool.submit(() -> {
                        for (Path f : part) {
                            Files.deleteIfExists(f);
                        }
                        return null;
                    }));
                }
                for (var f : parts) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while deleting " + root, e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
        folders.sort(Comparator.reverseOrder());
        for (Path d : folders) {
            Files.deleteIfExists(d);
        }
    }
}
