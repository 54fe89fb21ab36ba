package io.ringstore.daemon;

import io.ringstore.client.RingStoreClient;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a running daemon through its socket with the standard workload (256-byte events,
 * 10,000 streams, 8 connections) and watches the daemon's memory: first its capacity (32 in
 * flight per connection, 20 s), then a soak at half of it for the given minutes, printing the
 * daemon's RSS (VmRSS) and heap in use (jcmd GC.heap_info) every 30 s. Not a test:
 * <pre>
 * java -cp target/ringstore.jar:target/test-classes io.ringstore.daemon.SoakBenchmark SOCKET DAEMON_PID MINUTES
 * </pre>
 */
public final class SoakBenchmark {
    private SoakBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        long pid = Long.parseLong(args[1]);
        double minutes = Double.parseDouble(args[2]);
        double capacity = drive(socket, 0, 20, pid, false);
        System.out.printf(Locale.ROOT, "capacity: %.0f events/s%n", capacity);
        double achieved = drive(socket, capacity / 2, minutes * 60, pid, true);
        System.out.printf(Locale.ROOT, "soak: %.0f events/s for %.1f min (target %.0f)%n", achieved, minutes, capacity / 2);
    }

    /** Runs the workload; rate 0 means as fast as 32 in flight per connection allows. */
    private static double drive(Path socket, double rate, double seconds, long pid, boolean sample) throws Exception {
        List<RingStoreClient> clients = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            clients.add(RingStoreClient.connect(socket));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong acked = new AtomicLong();
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            RingStoreClient client = clients.get(c);
            long seed = c;
            double perConnection = rate / clients.size();
            threads.add(Thread.ofPlatform().start(() -> {
                Random random = new Random(seed);
                Semaphore inFlight = new Semaphore(32);
                byte[] payload = new byte[256];
                long sent = 0;
                while (!stop.get()) {
                    if (perConnection > 0) {
                        long due = start + (long) (sent / perConnection * 1e9);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        }
                    }
                    inFlight.acquireUninterruptibly();
                    sent++;
                    CompletableFuture<?> f = client.append("s" + random.nextInt(10_000), ExpectedVersion.ANY,
                            List.of(EventData.of("reading", payload)));
                    f.whenComplete((r, e) -> {
                        acked.incrementAndGet();
                        inFlight.release();
                    });
                }
                inFlight.acquireUninterruptibly(32);
            }));
        }
        long end = start + (long) (seconds * 1e9);
        long nextSample = System.nanoTime();
        while (System.nanoTime() < end) {
            if (sample && System.nanoTime() >= nextSample) {
                System.out.printf(Locale.ROOT, "t=%4.0fs acked=%d rss_kib=%d heap=%s%n", (System.nanoTime() - start) / 1e9,
                        acked.get(), rssKib(pid), heap(pid));
                nextSample += TimeUnit.SECONDS.toNanos(30);
            }
            Thread.sleep(200);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (sample) {
            System.out.printf(Locale.ROOT, "end: acked=%d rss_kib=%d heap=%s%n", acked.get(), rssKib(pid), heap(pid));
        }
        for (RingStoreClient c : clients) {
            c.close();
        }
        return acked.get() / elapsed;
    }

    private static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static String heap(long pid) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        for (String line : out.split("\n")) {
            if (line.contains("used")) {
                return line.strip().replaceAll("\\s+", " ");
            }
        }
        return "?";
    }
}
