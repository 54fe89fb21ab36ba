package io.ringstore.bench;

import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Runs every configuration in turn - for each in-flight depth the baseline, then the store - each
 * in a fresh subfolder that is deleted afterwards. Around each one: sync, an idle sample of the
 * device's background write rate, then the measured window (open, load, close, sync), so the
 * device counter delta holds the writes the configuration caused, including its file creation
 * and the journal commits behind its forces.
 */
final class BenchRunner {
    private static final Path DEFAULT_PARENT = Path.of("/var/tmp");

    private final BenchOptions options;
    private final PrintStream log;

    BenchRunner(BenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    BenchReport run() throws IOException, InterruptedException {
        boolean ownFolder = options.dir() == null;
        Path root = ownFolder ? createTempFolder(log) : Files.createDirectories(options.dir());
        try {
            DeviceWriteCounter device = DeviceWriteCounter.forFolder(root);
            log.println("bench: folder=" + root + " device=" + device.name()
                    + (device.available() ? "" : " (device bytes n/a: " + device.reason() + ")"));
            Workload workload = Workload.generate(options.events(), options.streams(), options.payloadBytes(),
                    options.seed());
            int bodyBytes = PlainFileLog.comparableBodyLength(workload);
            String durability = StoreConfig.defaults(root).writer().durability().name().toLowerCase(Locale.ROOT);
            log.printf(Locale.ROOT, "bench: %,d events x %d B payload over %,d streams (%,d used, seed %d), "
                            + "%d producers, in-flight %s, store durability %s%n",
                    options.events(), options.payloadBytes(), options.streams(), workload.streamsUsed(),
                    options.seed(), options.producers(), options.inFlight(), durability);
            List<ConfigResult> rows = new ArrayList<>();
            int total = options.inFlight().size() * options.targets().size();
            for (int depth : options.inFlight()) {
                for (String target : options.targets()) {
                    log.printf(Locale.ROOT, "[%d/%d] %s, in-flight %d%n", rows.size() + 1, total, target, depth);
                    rows.add(measure(target, depth, root, device, workload, bodyBytes));
                }
            }
            BenchReport.Environment env = new BenchReport.Environment(root.toString(), device.name(),
                    device.reason(), durability, bodyBytes, workload.streamsUsed(),
                    "java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                            + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", "
                            + Runtime.getRuntime().availableProcessors() + " cpus");
            return new BenchReport(options, env, List.copyOf(rows), ProcessMemory.heapUsedBytes(),
                    ProcessMemory.heapMaxBytes(), ProcessMemory.peakRssBytes());
        } finally {
            if (ownFolder) {
                deleteTree(root);
            }
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

    private ConfigResult measure(String label, int depth, Path root, DeviceWriteCounter device, Workload workload,
                                 int bodyBytes) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(root.resolve(label + "-inflight-" + depth));
        FileSystemSync.syncAll();
        double background = -1;
        if (device.available() && options.idleMillis() > 0) {
            long before = device.sectorsWritten();
            long start = System.nanoTime();
            Thread.sleep(options.idleMillis());
            background = (device.sectorsWritten() - before) / ((System.nanoTime() - start) / 1e9);
        }
        System.gc();
        boolean rssPerRun = ProcessMemory.resetPeakRss();
        long sectorsBefore = device.available() ? device.sectorsWritten() : -1;
        long windowStart = System.nanoTime();

        AppendTarget target = open(label, dir, workload, bodyBytes);
        LoadDriver.Result result;
        long liveHeap;
        long peakRss;
        CpuUsage.Sample cpu;
        try {
            LoadDriver driver = new LoadDriver(target, workload, options.producers(), depth);
            CpuUsage cpuWindow = CpuUsage.start();
            try (ProgressReporter progress = ProgressReporter.start(log, label + " in-flight " + depth,
                    workload.events(), driver::completed, options.progressMillis())) {
                result = driver.run();
            }
            cpu = cpuWindow.stop();
            liveHeap = ProcessMemory.liveHeapBytes();
            peakRss = ProcessMemory.peakRssBytes();
        } finally {
            target.close();
        }
        BatchStats batching = target.stats();
        FileSystemSync.syncAll();
        long payload = result.acked() * (long) workload.payloadBytes();
        DeviceWrites writes = device.available()
                ? new DeviceWrites(device.sectorsWritten() - sectorsBefore, (System.nanoTime() - windowStart) / 1e9,
                        background, payload)
                : DeviceWrites.unavailable(payload);
        deleteTree(dir);

        ConfigResult row = new ConfigResult(label, depth, workload.payloadBytes(), result, batching, writes,
                new ProcessMemory.Sample(liveHeap, peakRss, rssPerRun), cpu);
        log.printf(Locale.ROOT, "  done: %,.0f ev/s, p50 %d us, p99 %d us, %.1f ev/force, device %.2f B/B, %.1f cpu us/ev, others %.0f%% cpu%s%n",
                row.eventsPerSecond(), result.latencyP50Nanos() / 1000, result.latencyP99Nanos() / 1000,
                batching.eventsPerForce(), writes.bytesPerPayloadByte(), row.cpuMicrosPerEvent(), 100 * cpu.otherShare(),
                result.failed() > 0 ? ", " + result.failed() + " FAILED (first: " + result.firstError() + ")" : "");
        return row;
    }

    private static AppendTarget open(String label, Path dir, Workload workload, int bodyBytes) throws IOException {
        if (label.equals("store")) {
            return StoreTarget.open(dir);
        }
        // Same queue capacity and batch limit as the store's writer, so batching is comparable.
        var writer = io.ringstore.writer.WriterOptions.defaults();
        return PlainFileLog.open(dir.resolve("baseline.log"), workload.events(), bodyBytes, writer.queueCapacity(),
                writer.maxBatch());
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
