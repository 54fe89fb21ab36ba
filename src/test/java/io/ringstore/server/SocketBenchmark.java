package io.ringstore.server;

import io.ringstore.client.RingStoreClient;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.Durability;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * What the socket costs: the same appends made in-process ({@link RingStore#append}) and through
 * the Unix socket ({@link RingStoreClient}), 8 connections (or 8 in-process producers) with 1 and
 * with 32 appends in flight each, one store, one run. Prints events/s and p50/p99 append latency
 * (submit to acknowledgement). Not a test (surefire skips *Benchmark*); run with
 * <pre>
 * sh src/dev/test.sh -DskipTests   # or mvn package -DskipTests
 * java --enable-native-access=ALL-UNNAMED -cp target/ringstore.jar:target/test-classes \
 *     io.ringstore.server.SocketBenchmark [--durability sync|periodic|none] [--seconds N] [--dir DIR]
 * </pre>
 */
public final class SocketBenchmark {
    private static final int CONNECTIONS = 8;
    private static final int PAYLOAD_BYTES = 100;

    private SocketBenchmark() {}

    private record Result(String name, long events, double seconds, long[] latencyNanos) {
        String line() {
            long[] l = latencyNanos;
            Arrays.sort(l);
            double p50 = l.length == 0 ? 0 : l[(int) Math.min(l.length - 1, Math.floor(l.length * 0.50))] / 1_000.0;
            double p99 = l.length == 0 ? 0 : l[(int) Math.min(l.length - 1, Math.floor(l.length * 0.99))] / 1_000.0;
            return String.format(Locale.ROOT, "%-22s %10.0f events/s   p50 %8.1f us   p99 %8.1f us   (%d appends)",
                    name, events / seconds, p50, p99, events);
        }
    }

    public static void main(String[] args) throws Exception {
        Durability durability = Durability.SYNC;
        double seconds = 5;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--durability" -> durability = Durability.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("ringstore-bench");
        Path data = Files.createTempDirectory(base, "data");
        try (RingStore store = RingStore.open(StoreConfig.defaults(data).withDurability(durability));
             SocketServer server = SocketServer.start(store, ServerConfig.defaults(base.resolve("bench.sock")))) {
            System.out.printf(Locale.ROOT, "ringstore socket benchmark: %d connections, %d-byte events, durability=%s, "
                            + "%.0f s per case, data=%s, cores=%d%n", CONNECTIONS, PAYLOAD_BYTES,
                    durability.name().toLowerCase(Locale.ROOT), seconds, data, Runtime.getRuntime().availableProcessors());
            List<RingStoreClient> clients = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                clients.add(RingStoreClient.connect(server.socketPath()));
            }
            // Warm both paths up (JIT, page cache, segment allocation).
            run("warm-up in-process", seconds / 2, 32, i -> (s, e) -> store.append(s, ExpectedVersion.ANY, e));
            run("warm-up socket", seconds / 2, 32, i -> (s, e) -> clients.get(i).append(s, ExpectedVersion.ANY, e));
            List<Result> results = new ArrayList<>();
            for (int inFlight : new int[] {1, 32}) {
                results.add(run("in-process x" + inFlight, seconds, inFlight,
                        i -> (s, e) -> store.append(s, ExpectedVersion.ANY, e)));
                results.add(run("socket     x" + inFlight, seconds, inFlight,
                        i -> (s, e) -> clients.get(i).append(s, ExpectedVersion.ANY, e)));
            }
            // The transport alone: a ping makes the same round trip without the writer.
            for (int inFlight : new int[] {1, 32}) {
                results.add(run("ping       x" + inFlight, seconds, inFlight,
                        i -> (s, e) -> clients.get(i).ping().thenApply(v -> null)));
            }
            for (Result r : results) {
                System.out.println(r.line());
            }
            var w = store.writerStats();
            System.out.printf(Locale.ROOT, "writer: batches=%d events=%d forces=%d forceP50=%dus forceP99=%dus%n",
                    w.batches(), w.events(), w.forces(), w.forceP50Micros(), w.forceP99Micros());
            clients.forEach(RingStoreClient::close);
        } finally {
            try (var paths = Files.walk(data)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private interface Appender {
        CompletableFuture<AppendResult> append(String stream, List<EventData> events);
    }

    private static Result run(String name, double seconds, int inFlight, Function<Integer, Appender> appenders)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        long[][] latencies = new long[CONNECTIONS][];
        AtomicInteger[] counts = new AtomicInteger[CONNECTIONS];
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < CONNECTIONS; c++) {
            int conn = c;
            latencies[c] = new long[1 << 20];
            counts[c] = new AtomicInteger();
            Appender appender = appenders.apply(c);
            threads.add(Thread.ofPlatform().name("bench-" + c).start(() -> {
                Semaphore window = new Semaphore(inFlight);
                byte[] payload = new byte[PAYLOAD_BYTES];
                List<EventData> events = List.of(EventData.of("bench", payload));
                String stream = "bench-" + conn;
                while (!stop.get()) {
                    window.acquireUninterruptibly();
                    long t0 = System.nanoTime();
                    appender.append(stream, events).whenComplete((r, e) -> {
                        if (e == null) {
                            int n = counts[conn].getAndIncrement();
                            if (n < latencies[conn].length) {
                                latencies[conn][n] = System.nanoTime() - t0;
                            }
                        }
                        window.release();
                    });
                }
                window.acquireUninterruptibly(inFlight);
            }));
        }
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        long end = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        long events = 0;
        List<long[]> parts = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
            int n = Math.min(counts[c].get(), latencies[c].length);
            events += counts[c].get();
            parts.add(Arrays.copyOf(latencies[c], n));
        }
        long[] all = parts.stream().flatMapToLong(Arrays::stream).toArray();
        return new Result(name, events, (end - start) / 1e9, all);
    }
}
