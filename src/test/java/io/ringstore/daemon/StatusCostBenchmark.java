package io.ringstore.daemon;

import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import io.ringstore.status.Led;
import io.ringstore.status.LedDriver;
import io.ringstore.status.LedPin;
import io.ringstore.status.Pi4jLeds;
import io.ringstore.status.StatusReporter;
import io.ringstore.status.StoreSignals;
import io.ringstore.status.SystemdNotify;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the status machinery costs the writer: the standard in-process workload (256-byte
 * events, 10,000 streams, 8 producers x 32 in flight) with the LED driver (Pi4J mock outputs,
 * the same logic as on a board, ticking every 20 ms) and the status reporter running, against
 * the same without them. Alternating rounds in one run. Not a test (surefire skips *Benchmark*):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/ringstore.jar:target/test-classes:... \
 *     io.ringstore.daemon.StatusCostBenchmark [--seconds 10] [--rounds 3]
 * </pre>
 */
public final class StatusCostBenchmark {
    private StatusCostBenchmark() {}

    public static void main(String[] args) throws Exception {
        double seconds = 10;
        int rounds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        double on = 0;
        double off = 0;
        for (int r = 0; r < rounds; r++) {
            double a = run(false, seconds);
            double b = run(true, seconds);
            System.out.printf(Locale.ROOT, "round %d: status off %.0f ev/s, on %.0f ev/s, on/off %.3f%n", r, a, b, b / a);
            off += a;
            on += b;
        }
        System.out.printf(Locale.ROOT, "mean: status off %.0f ev/s, on %.0f ev/s, on/off %.3f%n", off / rounds, on / rounds, on / off);
    }

    private static double run(boolean status, double seconds) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "ringstore-statuscost");
        Pi4jLeds leds = null;
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir))) {
            LedDriver driver = null;
            StatusReporter reporter = null;
            Thread ledThread = null;
            Thread reporterThread = null;
            if (status) {
                leds = Pi4jLeds.create(MockDigitalOutputProvider.newInstance(), Map.of(
                        Led.WRITE, new LedPin(17, false), Led.LAG, new LedPin(27, false), Led.FAULT, new LedPin(22, false)));
                driver = new LedDriver(leds.outputs(), () -> StoreSignals.from(store.status(), false, System.nanoTime()),
                        System::nanoTime);
                ledThread = Thread.ofPlatform().daemon().start(driver);
                reporter = new StatusReporter(store, SystemdNotify.to(null, 0), driver::patterns, 1);
                reporterThread = Thread.ofPlatform().daemon().start(reporter);
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong acked = new AtomicLong();
            Thread[] producers = new Thread[8];
            for (int p = 0; p < producers.length; p++) {
                long seed = p;
                producers[p] = Thread.ofPlatform().start(() -> {
                    Random random = new Random(seed);
                    Semaphore inFlight = new Semaphore(32);
                    byte[] payload = new byte[256];
                    while (!stop.get()) {
                        inFlight.acquireUninterruptibly();
                        store.append("s" + random.nextInt(10_000), ExpectedVersion.ANY, List.of(EventData.of("t", payload)))
                                .whenComplete((r, e) -> {
                                    acked.incrementAndGet();
                                    inFlight.release();
                                });
                    }
                    inFlight.acquireUninterruptibly(32);
                });
            }
            Thread.sleep(1_000); // warm up
            long start = acked.get();
            long t0 = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            long events = acked.get() - start;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            stop.set(true);
            for (Thread t : producers) {
                t.join();
            }
            if (status) {
                driver.stop();
                reporter.stop();
                reporterThread.interrupt();
                ledThread.join();
            }
            return events / elapsed;
        } finally {
            if (leds != null) {
                leds.close();
            }
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
