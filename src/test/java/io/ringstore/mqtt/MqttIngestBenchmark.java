package io.ringstore.mqtt;

import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.testsupport.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * MQTT messages/s stored and the daemon's CPU per message: a real mosquitto (its defaults, so
 * max_inflight_messages 20 towards ringstore), a real daemon JVM with the service's JVM options
 * and durability sync, and 1 or more Paho publishers, each on its own topic, QoS 1, 10 messages
 * in flight each, a ~50-byte JSON reading with an event-id. The time runs from the first publish
 * to the daemon's status counting every message stored; the CPU is the daemon process's
 * utime+stime from /proc over the same span. Not a test (surefire skips *Benchmark*):
 * <pre>
 * mvn -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes:$(cat target/cp.txt) \
 *     io.ringstore.mqtt.MqttIngestBenchmark [--messages 20000] [--publishers 1,4]
 * </pre>
 */
public final class MqttIngestBenchmark {
    private MqttIngestBenchmark() {}

    public static void main(String[] args) throws Exception {
        int messages = 20_000;
        List<Integer> publisherCounts = List.of(1, 4);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--messages" -> messages = Integer.parseInt(args[++i]);
                case "--publishers" -> publisherCounts = java.util.Arrays.stream(args[++i].split(","))
                        .map(Integer::parseInt).toList();
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("mqtt-bench");
        try (Mosquitto broker = new Mosquitto(dir.resolve("mosquitto"), FreePorts.next(), null, null).start();
             MqttDaemon d = new MqttDaemon(dir, "--mqtt-broker", broker.url(), "--mqtt-topics",
                     "bench/+/reading -> bench-{1} type reading", "--segment-size", "64m")) {
            // The service's JVM (systemd/ringstore.service), full JIT.
            d.jvmOptions = List.of("-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:CICompilerCount=2");
            d.start();
            MqttDaemon.await("connected", 60_000, () -> {
                StatusResponse s = d.status();
                return s != null && s.getMqttState().equals("connected");
            });
            long pid = d.process().pid();
            // A warm-up round (JIT), not reported.
            run(broker.url(), d, pid, 2, messages, "warmup");
            for (int p : publisherCounts) {
                Result r = run(broker.url(), d, pid, p, messages, "p" + p);
                System.out.printf(Locale.ROOT,
                        "publishers=%d messages=%d seconds=%.2f stored/s=%.0f daemon_cpu_s=%.2f cpu_us_per_message=%.1f "
                                + "mosquitto_cpu_s=%.2f%n", p, messages, r.seconds, messages / r.seconds, r.daemonCpu,
                        r.daemonCpu / messages * 1e6, r.brokerCpu);
            }
        }
    }

    private record Result(double seconds, double daemonCpu, double brokerCpu) {}

    private static Result run(String url, MqttDaemon d, long pid, int publishers, int messages, String tag)
            throws Exception {
        long before = d.status().getMqttMessagesStored();
        long brokerPid = ProcessHandle.allProcesses().filter(h -> h.info().command().orElse("").endsWith("mosquitto")
                && h.parent().map(pp -> pp.pid() == ProcessHandle.current().pid()).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
        double cpu0 = cpuSeconds(pid);
        double bcpu0 = brokerPid > 0 ? cpuSeconds(brokerPid) : 0;
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        int each = messages / publishers;
        for (int p = 0; p < publishers; p++) {
            String topic = "bench/" + tag + "-" + p + "/reading";
            threads.add(Thread.ofPlatform().start(() -> publish(url, topic, each)));
        }
        for (Thread t : threads) {
            t.join();
        }
        long want = before + (long) each * publishers;
        MqttDaemon.await("all stored", 600_000, () -> {
            StatusResponse s = d.status();
            return s != null && s.getMqttMessagesStored() >= want;
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Result(seconds, cpuSeconds(pid) - cpu0, brokerPid > 0 ? cpuSeconds(brokerPid) - bcpu0 : 0);
    }

    private static void publish(String url, String topic, int count) {
        try {
            MqttAsyncClient c = new MqttAsyncClient(url, "pub-" + topic.replace('/', '-') + "-" + UUID.randomUUID(),
                    new MemoryPersistence());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(true);
            c.connect(o).waitForCompletion(10_000);
            Semaphore window = new Semaphore(10);
            MqttActionListener release = new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    window.release();
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    System.err.println("publish failed: " + e);
                    window.release();
                }
            };
            for (int i = 0; i < count; i++) {
                window.acquire();
                MqttMessage m = new MqttMessage(Publisher.json(topic, i), 1, false, new MqttProperties());
                m.getProperties().setUserProperties(List.of(new UserProperty("event-id", UUID.randomUUID().toString())));
                c.publish(topic, m, null, release);
            }
            window.acquire(10);
            c.disconnect().waitForCompletion(5_000);
            c.close(true);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** utime + stime of a process, from /proc/PID/stat (clock ticks of 1/100 s). */
    static double cpuSeconds(long pid) throws java.io.IOException {
        io.ringstore.nativeio.ProcStat s = io.ringstore.nativeio.ProcStat.read(Path.of("/proc/" + pid + "/stat"));
        return (s.userTicks() + s.systemTicks()) / 100.0;
    }

    static {
        // Paho's own java.util.logging lines are not wanted in the numbers' output.
        java.util.logging.Logger.getLogger("org.eclipse.paho").setLevel(java.util.logging.Level.OFF);
    }
}
