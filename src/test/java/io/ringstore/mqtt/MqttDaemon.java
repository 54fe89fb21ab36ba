package io.ringstore.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.error.RingStoreException;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.read.Direction;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real ringstore daemon (a child JVM running {@code ringstore serve}) with the MQTT ingress
 * configured by flags; its journal is kept across restarts. SIGKILL by its pid only.
 */
final class MqttDaemon implements AutoCloseable {
    private final Path data;
    private final Path socket;
    private final List<String> mqttFlags;
    private final ConcurrentLinkedQueue<String> journal = new ConcurrentLinkedQueue<>();
    private Process process;
    /** The child JVM's options: small and quick to start for tests (a benchmark gives the service's). */
    List<String> jvmOptions = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    MqttDaemon(Path dir, String... mqttFlags) throws IOException {
        this.data = dir.resolve("data");
        this.socket = Files.createDirectories(dir.resolve("run")).resolve("s.sock");
        this.mqttFlags = List.of(mqttFlags);
    }

    MqttDaemon start() throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve", "--data", data.toString(), "--socket", socket.toString(), "--leds", "off",
                "--segment-size", "1m", "--status-interval-seconds", "1"));
        cmd.addAll(mqttFlags);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().name("daemon-output-" + p.pid()).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    journal.add(line);
                    if (line.contains("mqtt: ") || line.contains("ERROR")) {
                        System.out.println("[daemon] " + line);
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
        process = p;
        return this;
    }

    Process process() {
        return process;
    }

    /** SIGKILL, by pid: the JVM dies between any two instructions. */
    void kill() throws InterruptedException {
        assertTrue(process.toHandle().destroyForcibly());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, process.exitValue(), "killed by SIGKILL");
    }

    /** SIGTERM: the clean stop (exit 0). */
    void stop() throws InterruptedException, IOException {
        // kill -TERM, not Process.destroy(): destroy also closes our end of the child's output,
        // and the clean stop's journal lines would be lost.
        Process k = new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).inheritIO().start();
        assertEquals(0, k.waitFor(), "kill -TERM " + process.pid());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), "clean stop: " + journal());
    }

    List<String> journal() {
        return List.copyOf(journal);
    }

    long journalLines(String containing) {
        return journal.stream().filter(l -> l.contains(containing)).count();
    }

    /** The daemon's status through a fresh connection, or null while it does not answer. */
    StatusResponse status() {
        try (RingStoreClient c = RingStoreClient.connect(socket)) {
            return c.status().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    RingStoreClient client() throws InterruptedException {
        await("daemon serving", 30_000, () -> status() != null);
        try {
            return RingStoreClient.connect(socket);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Every event of {@code stream} (none when it does not exist yet). */
    static List<RecordedEvent> read(RingStoreClient c, String stream) {
        List<RecordedEvent> all = new ArrayList<>();
        long from = 0;
        while (true) {
            StreamPage page;
            try {
                page = c.readStream(stream, from, 1000, Direction.FORWARD).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RingStoreException r && r.code() == io.ringstore.error.ErrorCode.STREAM_NOT_FOUND) {
                    return all;
                }
                throw new AssertionError(e);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            all.addAll(page.events());
            if (page.endOfStream() || page.events().isEmpty()) {
                return all;
            }
            from = page.nextVersion();
        }
    }

    static void await(String what, long millis, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
