package io.ringstore.daemon;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 14, item 3: how long the daemon takes from launch to its own {@code ready:} line with
 * an empty data folder and with STREAMS streams (default 100,000) stored, each one event, all
 * split into stream files, after a clean stop. Default settings (a 90% disk budget). Rounds
 * alternate the two folders; each round is a fresh child JVM. Not a test (surefire skips
 * *Benchmark*):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/ringstore.jar:target/test-classes \
 *     io.ringstore.daemon.ReadyTimeBenchmark DIR [--streams 100000] [--rounds 7] [--drop-caches]
 * </pre>
 * DIR is made if missing and keeps the two folders between runs ({@code empty/}, {@code full/}).
 * {@code --drop-caches} (root) drops the page cache before each launch, as after a reboot; it
 * slows everything else on the machine for a moment.
 */
public final class ReadyTimeBenchmark {
    private ReadyTimeBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int streams = 100_000;
        int rounds = 7;
        boolean dropCaches = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--streams" -> streams = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--drop-caches" -> dropCaches = true;
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        Path empty = dir.resolve("empty");
        Path full = dir.resolve("full");
        Files.createDirectories(empty);
        if (!Files.exists(full.resolve("log"))) {
            fill(full, streams);
        }
        System.out.printf(Locale.ROOT, "full folder: %d streams, %d files%n", streams, countFiles(full));
        double[] e = new double[rounds];
        double[] f = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            e[r] = readyMillis(dir, empty, dropCaches);
            f[r] = readyMillis(dir, full, dropCaches);
            System.out.printf(Locale.ROOT, "round %d: empty %.0f ms, %d streams %.0f ms%n", r, e[r], streams, f[r]);
        }
        double me = median(e);
        double mf = median(f);
        System.out.printf(Locale.ROOT, "median: empty %.0f ms, %d streams %.0f ms, ratio %.2f%n", me, streams, mf, mf / me);
    }

    /** STREAMS streams of one event each, split, then a clean stop. */
    private static void fill(Path data, int streams) throws Exception {
        long t0 = System.nanoTime();
        try (RingStore store = RingStore.open(StoreConfig.defaults(data))) {
            Semaphore window = new Semaphore(256);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            byte[] payload = new byte[100];
            for (int s = 0; s < streams; s++) {
                window.acquireUninterruptibly();
                store.append("device-" + s, ExpectedVersion.NO_STREAM, List.of(EventData.of("installed", payload)))
                        .whenComplete((ok, error) -> {
                            if (error != null) {
                                failed.compareAndSet(null, error);
                            }
                            window.release();
                        });
            }
            window.acquireUninterruptibly(256);
            if (failed.get() != null) {
                throw new IllegalStateException("an append failed", failed.get());
            }
            store.splitter().drain();
            while (store.splitterStatus().lagEvents() > 0) {
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 100);
            }
        }
        System.out.printf(Locale.ROOT, "filled %s with %d streams in %.1f s%n", data, streams, (System.nanoTime() - t0) / 1e9);
    }

    private static long countFiles(Path data) throws Exception {
        try (var walk = Files.walk(data)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    /** Launches the daemon on {@code data}, returns the ms from launch to its ready line, stops it. */
    private static double readyMillis(Path dir, Path data, boolean dropCaches) throws Exception {
        if (dropCaches) {
            new ProcessBuilder("sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches").inheritIO().start().waitFor();
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve", "--data", data.toString(),
                "--socket", dir.resolve("bench.sock").toString()));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long ready = -1;
        List<String> seen = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.contains("ready:")) {
                    ready = System.nanoTime();
                    p.toHandle().destroy(); // SIGTERM: a clean stop; the output is read to the end
                } else if (ready < 0) {
                    seen.add(line);
                }
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || ready < 0) {
            p.destroyForcibly();
            throw new IllegalStateException("no ready line (exit " + (p.isAlive() ? "none" : p.exitValue()) + "): " + seen);
        }
        return (ready - t0) / 1e6;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
