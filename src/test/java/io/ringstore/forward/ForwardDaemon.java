package io.ringstore.forward;

import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real daemon (a child JVM running {@code ringstore serve}) forwarding to a NATS server, its
 * journal (standard output) kept across restarts. Every child started is killed by {@link #close()}.
 */
final class ForwardDaemon implements AutoCloseable {
    final Path data;
    final Path socket;
    private final List<String> forwardFlags;
    private final ConcurrentLinkedQueue<String> journal = new ConcurrentLinkedQueue<>();
    private final List<Process> children = new ArrayList<>();
    private Process process;

    ForwardDaemon(Path dir, String natsUrl, String password, String... extra) throws IOException {
        this.data = dir.resolve("data");
        this.socket = Files.createDirectories(dir.resolve("run")).resolve("s.sock");
        List<String> f = new ArrayList<>(List.of("--forward-url", natsUrl, "--forward-stream", "RS",
                "--forward-user", NatsServer.USER, "--forward-password", password, "--forward-board", "b1",
                "--forward-connect-timeout-ms", "1500"));
        f.addAll(List.of(extra));
        this.forwardFlags = f;
    }

    /** The systemd unit's JVM and the default segment size (benchmarks), instead of a quick-starting test JVM. */
    private boolean asInService;

    ForwardDaemon asInService() {
        asInService = true;
        return this;
    }

    Process start() throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(asInService ? List.of("-Xms16m", "-Xmx128m", "-XX:MaxMetaspaceSize=64m", "-XX:ReservedCodeCacheSize=48m",
                "-XX:MaxDirectMemorySize=64m", "-XX:+UseSerialGC", "-XX:CICompilerCount=2", "-XX:-UsePerfData")
                : List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "io.ringstore.cli.Main", "serve", "--data", data.toString(), "--socket", socket.toString(),
                "--leds", "off", "--status-interval-seconds", "3600"));
        if (!asInService) {
            cmd.addAll(List.of("--segment-size", "65536"));
        }
        cmd.addAll(forwardFlags);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    journal.add(line);
                    if (line.contains("forward") || line.contains("ERROR")) {
                        System.out.println("[daemon] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        synchronized (children) {
            children.add(p);
        }
        process = p;
        return p;
    }

    Process process() {
        return process;
    }

    /** SIGKILL. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 137) {
            fail("daemon did not die of SIGKILL");
        }
    }

    /** SIGTERM: the clean stop; exit 0. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            fail("daemon did not stop cleanly: " + (process.isAlive() ? "alive" : "exit " + process.exitValue()));
        }
    }

    List<String> journal() {
        return List.copyOf(journal);
    }

    RingStoreClient connect() throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                return RingStoreClient.connect(socket);
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("daemon did not start serving", e);
                }
                Thread.sleep(50);
            }
        }
    }

    /** Status through a fresh connection, or null while the daemon is not serving. */
    StatusResponse status() {
        try (RingStoreClient c = RingStoreClient.connect(socket)) {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    static void await(String what, long millis, BooleanSupplier c) throws InterruptedException {
        await(what, millis, 25, c);
    }

    /** As {@link #await(String, long, BooleanSupplier)}, asking every {@code everyMillis} (a status costs the daemon a count of its lag). */
    static void await(String what, long millis, long everyMillis, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(everyMillis);
        }
    }

    @Override
    public void close() throws InterruptedException {
        List<Process> all;
        synchronized (children) {
            all = List.copyOf(children);
        }
        for (Process p : all) {
            p.toHandle().destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
