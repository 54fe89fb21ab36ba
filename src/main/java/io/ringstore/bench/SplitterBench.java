package io.ringstore.bench;

import io.ringstore.split.SplitterOptions;
import io.ringstore.split.SplitterStatus;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code ringstore bench --splitter}: issue 3's measurements, part by part, each configuration
 * in a fresh subfolder that is deleted afterwards. The append runs are measured like
 * {@link BenchRunner}'s (a device window around open, load, close and sync); a splitter-on
 * window also holds the drain until every event is in a stream file, so its device bytes are
 * log and stream files together.
 */
final class SplitterBench {
    /** Longest wait for a splitter to reach lag 0 after the appends of one run. */
    private static final long LAG_ZERO_TIMEOUT_MILLIS = 600_000;

    private final SplitterBenchOptions options;
    private final PrintStream log;
    private DeviceWriteCounter device;

    SplitterBench(SplitterBenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    SplitterReport run() throws IOException, InterruptedException {
        boolean ownFolder = options.dir() == null;
        Path root = ownFolder ? BenchRunner.createTempFolder(log) : Files.createDirectories(options.dir());
        try {
            device = DeviceWriteCounter.forFolder(root);
            SplitterOptions so = options.splitterOptions();
            log.println("bench --splitter: folder=" + root + " device=" + device.name()
                    + (device.available() ? "" : " (device bytes n/a: " + device.reason() + ")")
                    + " parts=" + SplitterBenchOptions.PARTS.stream().filter(options::runs).toList()
                    + " splitter window=" + so.windowBytes() + " B / " + so.windowMillis() + " ms");
            List<SplitterReport.Run> onOff = options.runs("onoff") ? onOff(root) : List.of();
            SplitterReport.CatchUp catchUp = null;
            if (options.runs("catchup")) {
                log.println("[catchup] splitter held paused for " + options.catchUp().pausedEvents()
                        + " events at " + (long) options.catchUp().ingestRate() + " ev/s, then released");
                catchUp = new CatchUpRun(options, log).run(Files.createDirectories(root.resolve("catchup")));
                BenchRunner.deleteTree(root.resolve("catchup"));
            }
            List<SplitterReport.Run> sweep = options.runs("sweep") ? sweep(root) : List.of();
            SplitterReport.Rehydration rehydration = null;
            if (options.runs("rehydrate")) {
                log.println("[rehydrate] " + options.rehydrate().streamsPerSet() + " split + "
                        + options.rehydrate().streamsPerSet() + " unsplit streams x "
                        + options.rehydrate().eventsPerStream() + " events, reads under "
                        + (long) options.rehydrate().ingestRate() + " ev/s of other appends");
                rehydration = new RehydrationRun(options, log).run(Files.createDirectories(root.resolve("rehydrate")));
                BenchRunner.deleteTree(root.resolve("rehydrate"));
            }
            SplitterReport.Environment env = new SplitterReport.Environment(root.toString(), device.name(),
                    device.reason(), so.windowBytes(), so.windowMillis(),
                    "java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                            + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", "
                            + Runtime.getRuntime().availableProcessors() + " cpus");
            return new SplitterReport(options, env, onOff, catchUp, sweep, rehydration);
        } finally {
            if (ownFolder) {
                BenchRunner.deleteTree(root);
            }
        }
    }

    /**
     * At each depth: splitter disabled ("store-off"), running with the pressure signals held calm
     * so it never pauses ("store": the writer's worst case), and with the real signals
     * ("store-psi": what the daemon would do here). The order reverses between depths so no side
     * always goes first.
     */
    private List<SplitterReport.Run> onOff(Path root) throws IOException, InterruptedException {
        SplitterBenchOptions.Load load = options.load();
        Workload workload = Workload.generate(options.onOff().events(), load.streams(), load.payloadBytes(), load.seed());
        List<SplitterReport.Run> rows = new ArrayList<>();
        List<String> targets = options.onOff().targets().stream().map(t -> switch (t) {
            case "off" -> "store-off";
            case "on" -> "store";
            default -> "store-psi";
        }).toList();
        int total = options.onOff().inFlight().size() * targets.size();
        boolean offFirst = true;
        for (int depth : options.onOff().inFlight()) {
            Workload w = depth == 1 ? workload.first(options.onOff().eventsAtDepth1()) : workload;
            for (String target : offFirst ? targets : targets.reversed()) {
                log.printf(Locale.ROOT, "[onoff %d/%d] %s, %,d events over %,d streams, in-flight %d%n",
                        rows.size() + 1, total, target, w.events(), load.streams(), depth);
                rows.add(measure(target, load.streams(), depth, w, root.resolve("onoff-" + target + "-" + depth)));
            }
            offFirst = !offFirst;
        }
        return rows;
    }

    /** For each stream count: the store (splitter on), then the naive design on a prefix of the same workload. */
    private List<SplitterReport.Run> sweep(Path root) throws IOException, InterruptedException {
        SplitterBenchOptions.Sweep s = options.sweep();
        List<SplitterReport.Run> rows = new ArrayList<>();
        int total = s.streamCounts().size() * 2;
        for (int streams : s.streamCounts()) {
            Workload w = Workload.generate(s.events(), streams, options.load().payloadBytes(), options.load().seed());
            log.printf(Locale.ROOT, "[sweep %d/%d] store, %,d events over %,d streams, in-flight %d%n",
                    rows.size() + 1, total, w.events(), streams, s.inFlight());
            rows.add(measure("store", streams, s.inFlight(), w, root.resolve("sweep-" + streams + "-store")));
            Workload naive = w.first(s.naiveEvents());
            log.printf(Locale.ROOT, "[sweep %d/%d] naive, first %,d of those events, in-flight %d%n",
                    rows.size() + 1, total, naive.events(), s.inFlight());
            rows.add(measure("naive", streams, s.inFlight(), naive, root.resolve("sweep-" + streams + "-naive")));
        }
        return rows;
    }

    private SplitterReport.Run measure(String target, int streams, int depth, Workload workload, Path dir)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        DeviceWindow window = DeviceWindow.start(device, options.idleMillis());
        AppendTarget t = open(target, dir, workload, depth);
        LoadDriver.Result result;
        CpuUsage.Sample cpu;
        CpuUsage.Sample cpuToLagZero;
        double splitterCpu = Double.NaN;
        double lagZeroSeconds = Double.NaN;
        SplitterStatus status = null;
        SplitterWatch.Pressure pressure = SplitterWatch.Pressure.NONE;
        try {
            SplitterWatch watch = target.equals("store") || target.equals("store-psi")
                    ? SplitterWatch.attach(((StoreTarget) t).store()) : null;
            LoadDriver driver = new LoadDriver(t, workload, options.load().producers(), depth);
            CpuUsage cpuWindow = CpuUsage.start();
            long start = System.nanoTime();
            try (ProgressReporter progress = ProgressReporter.start(log, target + " in-flight " + depth,
                    workload.events(), driver::completed, options.progressMillis())) {
                result = driver.run();
            }
            cpu = cpuWindow.stop();
            cpuToLagZero = cpu;
            if (watch != null) {
                long zero = watch.awaitLagZero(LAG_ZERO_TIMEOUT_MILLIS, log, "drain", options.progressMillis());
                long end = zero < 0 ? System.nanoTime() : zero;
                lagZeroSeconds = zero < 0 ? Double.NaN : (zero - start) / 1e9;
                status = watch.status();
                pressure = watch.pressure(start, end);
                cpuToLagZero = cpuWindow.stop();
                splitterCpu = SplitterWatch.splitterCpuSeconds();
            }
        } finally {
            t.close();
        }
        BatchStats batching = t.stats();
        long[] files = fileTotals(target.equals("naive") ? dir : dir.resolve("streams"));
        DeviceWrites writes = window.end(result.acked() * (long) workload.payloadBytes());
        BenchRunner.deleteTree(dir);
        SplitterReport.Run row = new SplitterReport.Run(target, streams, depth, result, cpu, cpuToLagZero, splitterCpu, lagZeroSeconds,
                status == null ? 0 : status.eventsSplit(), status == null ? 0 : status.windows(), pressure, writes,
                files[0], files[1], batching);
        log.printf(Locale.ROOT, "  done: %,.0f ev/s, p50 %d us, p99 %d us, %s%s%,d files, device %.2f B/B, "
                        + "%.1f cpu us/ev, others %.0f%% cpu%s%n",
                row.eventsPerSecond(), result.latencyP50Nanos() / 1000, result.latencyP99Nanos() / 1000,
                status == null ? "" : String.format(Locale.ROOT, "split %,.0f ev/s (lag 0 after %.1f s, drain %.1f s, "
                        + "splitter thread cpu %.1f s = %.1f us/ev), ", row.splitEventsPerSecond(), lagZeroSeconds,
                        row.drainSeconds(), splitterCpu, row.splitterCpuMicrosPerEvent()),
                pressure.pauses() > 0 ? String.format(Locale.ROOT, "paused %d x / %.1f s by pressure, ",
                        pressure.pauses(), pressure.pausedSeconds()) : "",
                row.files(), writes.bytesPerPayloadByte(), row.cpuMicrosPerEvent(), 100 * cpu.otherShare(),
                result.failed() > 0 ? ", " + result.failed() + " FAILED (first: " + result.firstError() + ")" : "");
        return row;
    }

    private AppendTarget open(String target, Path dir, Workload workload, int depth) throws IOException {
        return switch (target) {
            case "store" -> StoreTarget.open(StoreConfig.defaults(dir).withSplitter(options.splitterOptions())
                    .withPressureGauge(new HeldGauge())); // never held: the splitter always runs
            case "store-psi" -> StoreTarget.open(StoreConfig.defaults(dir).withSplitter(options.splitterOptions()));
            case "store-off" -> StoreTarget.open(StoreConfig.defaults(dir)
                    .withSplitter(options.splitterOptions().withEnabled(false)));
            case "naive" -> NaiveStreamFiles.open(dir, options.load().producers(), depth,
                    PlainFileLog.comparableBodyLength(workload));
            default -> throw new IllegalArgumentException("unknown target: " + target);
        };
    }

    /** Regular files under {@code dir} and their total size: {count, bytes}. */
    static long[] fileTotals(Path dir) throws IOException {
        long[] out = new long[2];
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.forEach(p -> {
                try {
                    if (Files.isRegularFile(p)) {
                        out[0]++;
                        out[1] += Files.size(p);
                    }
                } catch (IOException e) {
                    // A file that vanished while counting is not counted.
                }
            });
        }
        return out;
    }
}
