package io.ringstore.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.testsupport.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Debian mosquitto, started by a test on a free loopback port with its own config and
 * persistence folder. Missing mosquitto skips the test, saying so, unless
 * {@code RINGSTORE_REQUIRE_BROKERS=1} (set by .ci/run, which installs it): then it fails.
 */
final class Mosquitto implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/sbin/mosquitto");

    private final Path dir;
    private final int port;
    private final Path passwords;
    private Process process;
    private final ConcurrentLinkedQueue<String> log = new ConcurrentLinkedQueue<>();

    /** Skips (or fails, when brokers are required) unless mosquitto is installed. */
    static void require() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        String why = "mosquitto is not installed (" + BINARY + "): apt-get install mosquitto";
        if ("1".equals(System.getenv("RINGSTORE_REQUIRE_BROKERS"))) {
            throw new AssertionError("RINGSTORE_REQUIRE_BROKERS=1 but " + why);
        }
        Assumptions.abort(why);
    }

    /**
     * @param user     with {@code password}: the one account (anonymous clients are then refused); null: anonymous
     */
    Mosquitto(Path dir, int port, String user, String password) throws IOException, InterruptedException {
        require();
        this.dir = Files.createDirectories(dir);
        this.port = port;
        this.passwords = user == null ? null : dir.resolve("passwd");
        if (user != null) {
            Process p = new ProcessBuilder("mosquitto_passwd", "-b", "-c", passwords.toString(), user, password)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), "mosquitto_passwd: " + out);
        }
        // max_queued_messages 0: no limit on what the broker queues for ringstore while it is away
        // (mosquitto's default, 1000, drops the rest; README says so).
        Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n", List.of(
                "listener " + port + " 127.0.0.1",
                user == null ? "allow_anonymous true" : "allow_anonymous false",
                user == null ? "" : "password_file " + passwords,
                "persistence true",
                "persistence_location " + dir + "/",
                "max_queued_messages 0",
                "user " + System.getProperty("user.name"),
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "")));
    }

    int port() {
        return port;
    }

    String url() {
        return "tcp://127.0.0.1:" + port;
    }

    /** Starts the broker and waits until it takes connections. */
    Mosquitto start() throws IOException, InterruptedException {
        process = new ProcessBuilder(BINARY.toString(), "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).start();
        Process p = process;
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                }
            } catch (IOException ignored) {
                // ended
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return this;
            } catch (IOException e) {
                if (!process.isAlive()) {
                    throw new AssertionError("mosquitto exited: " + String.join("\n", log));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("mosquitto did not listen on " + port + ": " + String.join("\n", log));
                }
                Thread.sleep(20);
            }
        }
    }

    /** SIGKILL: what mosquitto had not saved to its persistence file is gone. */
    void kill() throws InterruptedException {
        assertTrue(process.toHandle().destroyForcibly());
        assertTrue(process.waitFor(10, TimeUnit.SECONDS));
    }

    /** SIGTERM: mosquitto saves its in-memory database (sessions, queued messages) and exits. */
    void stop() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), "mosquitto did not stop on SIGTERM");
    }

    String log() {
        return String.join("\n", log);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
