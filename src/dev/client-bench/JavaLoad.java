// Append load through the Java client, for client-bench.sh (run as a single-file program:
// java -cp target/ringstore.jar src/dev/client-bench/JavaLoad.java SOCKET CONNECTIONS IN_FLIGHT
// SECONDS DAEMON_PID). Each connection appends one sensor-like event per request, with a client-made
// event id, to its own stream, keeping IN_FLIGHT requests outstanding. After a one-second warm-up
// it counts acknowledgements for SECONDS and prints one JSON line: events, seconds, this process's
// CPU seconds and the daemon's (from /proc/PID/stat) over that window.
import io.ringstore.client.RingStoreClient;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

public class JavaLoad {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int connections = Integer.parseInt(args[1]);
        int inFlight = Integer.parseInt(args[2]);
        double seconds = Double.parseDouble(args[3]);
        long daemon = Long.parseLong(args[4]);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        List<RingStoreClient> clients = new ArrayList<>();
        String run = UUID.randomUUID().toString().substring(0, 8);
        for (int c = 0; c < connections; c++) {
            RingStoreClient client = RingStoreClient.connect(socket);
            clients.add(client);
            String stream = "bench-java-" + run + "-" + c;
            Semaphore window = new Semaphore(inFlight);
            workers.add(Thread.ofPlatform().start(() -> {
                long i = 0;
                while (!stop.get()) {
                    window.acquireUninterruptibly();
                    UUID id = UUID.randomUUID();
                    byte[] eventId = java.nio.ByteBuffer.allocate(16).putLong(id.getMostSignificantBits())
                            .putLong(id.getLeastSignificantBits()).array();
                    byte[] data = ("{\"celsius\":" + (40 + (i++ % 200) / 10.0) + ",\"sensor\":\"cpu\"}")
                            .getBytes(StandardCharsets.UTF_8);
                    client.append(stream, ExpectedVersion.ANY, List.of(new EventData(eventId, "reading", data, new byte[0])))
                            .whenComplete((r, e) -> {
                                (e == null ? acked : failed).incrementAndGet();
                                window.release();
                            });
                }
                window.acquireUninterruptibly(inFlight); // the last answers
            }));
        }
        Thread.sleep(1000);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long a0 = acked.get();
        long cpu0 = os.getProcessCpuTime();
        double d0 = daemonCpu(daemon);
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        long a1 = acked.get();
        long cpu1 = os.getProcessCpuTime();
        double d1 = daemonCpu(daemon);
        long t1 = System.nanoTime();
        stop.set(true);
        for (Thread t : workers) {
            t.join();
        }
        for (RingStoreClient c : clients) {
            c.close();
        }
        System.out.printf("{\"client\":\"java\",\"connections\":%d,\"in_flight\":%d,\"events\":%d,\"seconds\":%.3f,"
                        + "\"client_cpu\":%.3f,\"daemon_cpu\":%.3f,\"failed\":%d}%n", connections, inFlight, a1 - a0,
                (t1 - t0) / 1e9, (cpu1 - cpu0) / 1e9, d1 - d0, failed.get());
    }

    /** utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s). */
    static double daemonCpu(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }
}
