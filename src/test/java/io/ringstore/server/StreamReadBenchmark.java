package io.ringstore.server;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.split.PressureGauge;
import io.ringstore.split.PressureReading;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * Where the time of reading one long stream back goes: one stream of N events (256-byte
 * payloads) read whole, in-process ({@link RingStore#readStream}, pages of 1,000) and through
 * the socket ({@link RingStoreClient}, pages of 1,000), once with every event in the stream
 * file and once with every event still in the log tail (the splitter held). One store, one JVM,
 * so a profiler sees both sides. Not a test (surefire skips *Benchmark*); run with
 * <pre>
 * mvn package -DskipTests
 * java --enable-native-access=ALL-UNNAMED -cp target/ringstore.jar:target/test-classes \
 *     io.ringstore.server.StreamReadBenchmark [--events N] [--reads N] [--page N] [--dir DIR]
 * </pre>
 */
public final class StreamReadBenchmark {
    private static final int PAYLOAD_BYTES = 256;
    private static final int APPEND_BATCH = 100;

    private StreamReadBenchmark() {}

    /** Holds the splitter paused while set (as under I/O pressure). */
    private static final class Gauge implements PressureGauge {
        volatile boolean high;

        @Override
        public PressureReading read() {
            return high ? new PressureReading(95, 0, 0) : PressureReading.CALM;
        }
    }

    public static void main(String[] args) throws Exception {
        int events = 100_000;
        int reads = 5;
        int page = 1_000;
        Path dir = null;
        Path jfr = null;
        boolean wholeOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--events" -> events = Integer.parseInt(args[++i]);
                case "--reads" -> reads = Integer.parseInt(args[++i]);
                case "--page" -> page = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--jfr" -> jfr = Path.of(args[++i]);
                case "--whole-only" -> wholeOnly = true; // only readStreamToEnd (a profile of it alone)
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory(Path.of("/var/tmp"), "rs-read");
        Path data = Files.createTempDirectory(base, "data");
        Gauge gauge = new Gauge();
        try (RingStore store = RingStore.open(StoreConfig.defaults(data).withPressureGauge(gauge));
             SocketServer server = SocketServer.start(store, ServerConfig.defaults(base.resolve("read.sock")));
             RingStoreClient client = RingStoreClient.connect(server.socketPath())) {
            System.out.printf(Locale.ROOT, "stream read benchmark: %,d events of %d B, pages of %d, cores=%d, data=%s%n",
                    events, PAYLOAD_BYTES, page, Runtime.getRuntime().availableProcessors(), data);
            fill(client, "split-stream", events);
            store.splitter().drain();
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (store.splitterStatus().lagEvents() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            System.out.printf(Locale.ROOT, "split: lag %d events%n", store.splitterStatus().lagEvents());
            gauge.high = true;
            Thread.sleep(300);
            fill(client, "unsplit-stream", events);
            System.out.printf(Locale.ROOT, "unsplit: lag %d events%n", store.splitterStatus().lagEvents());
            jdk.jfr.Recording recording = null;
            if (jfr != null) { // the reads alone, not the appends that made the streams
                recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
                recording.setDestination(jfr);
                recording.start();
            }
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (String stream : List.of("split-stream", "unsplit-stream")) {
                for (int r = 0; r < reads; r++) {
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    int n = wholeOnly ? events : readInProcess(store, stream, page);
                    long t1 = System.nanoTime();
                    long c1 = os.getProcessCpuTime();
                    int m = wholeOnly ? events : readSocket(client, stream, page);
                    long t2 = System.nanoTime();
                    long c2 = os.getProcessCpuTime();
                    int[] k = new int[1];
                    client.readStreamToEnd(stream, 0, e -> check(k[0]++, e.version())).join();
                    long t3 = System.nanoTime();
                    long c3 = os.getProcessCpuTime();
                    if (n != events || m != events || k[0] != events) {
                        throw new IllegalStateException("read " + n + " / " + m + " of " + events);
                    }
                    System.out.printf(Locale.ROOT, "%-15s in-process %7.1f ms (%,10.0f ev/s, cpu %6.1f ms)   "
                                    + "socket pages %7.1f ms (%,10.0f ev/s, cpu %6.1f ms)   "
                                    + "socket readStreamToEnd %7.1f ms (%,10.0f ev/s, cpu %6.1f ms)%n",
                            stream, (t1 - t0) / 1e6, events / ((t1 - t0) / 1e9), (c1 - c0) / 1e6,
                            (t2 - t1) / 1e6, events / ((t2 - t1) / 1e9), (c2 - c1) / 1e6,
                            (t3 - t2) / 1e6, events / ((t3 - t2) / 1e9), (c3 - c2) / 1e6);
                }
            }
            if (recording != null) {
                recording.stop();
                recording.close();
            }
            gauge.high = false;
        }
    }

    private static void fill(RingStoreClient client, String stream, int events) {
        SplittableRandom random = new SplittableRandom(7);
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < events; i += APPEND_BATCH) {
            List<EventData> batch = new ArrayList<>();
            for (int j = i; j < Math.min(events, i + APPEND_BATCH); j++) {
                byte[] payload = new byte[PAYLOAD_BYTES];
                random.nextBytes(payload);
                batch.add(EventData.of("reading", payload));
            }
            inFlight.add(client.append(stream, ExpectedVersion.ANY, batch));
            if (inFlight.size() >= 32) {
                inFlight.removeFirst().join();
            }
        }
        inFlight.forEach(CompletableFuture::join);
    }

    private static int readInProcess(RingStore store, String stream, int page) {
        int n = 0;
        long from = 0;
        while (true) {
            StreamSlice s = store.readStream(stream, from, page, Direction.FORWARD);
            for (LogRecord r : s.events()) {
                check(n++, r.getVersion());
            }
            if (s.endOfStream() || s.events().isEmpty()) {
                return n;
            }
            from = s.nextVersion();
        }
    }

    private static int readSocket(RingStoreClient client, String stream, int page) {
        int n = 0;
        long from = 0;
        while (true) {
            StreamPage p = client.readStream(stream, from, page, Direction.FORWARD).join();
            for (RecordedEvent e : p.events()) {
                check(n++, e.version());
            }
            if (p.endOfStream() || p.events().isEmpty()) {
                return n;
            }
            from = p.nextVersion();
        }
    }

    private static void check(int index, long version) {
        if (version != index) {
            throw new IllegalStateException("version " + version + " at index " + index);
        }
    }
}
