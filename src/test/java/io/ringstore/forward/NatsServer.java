package io.ringstore.forward;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.ringstore.testsupport.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real nats-server (Debian's package) with JetStream on a free loopback port, its storage in
 * a test folder, started and stopped (SIGTERM) or killed (SIGKILL) by the test. The tests are
 * skipped, saying why, where nats-server is not installed, unless RINGSTORE_REQUIRE_BROKERS=1
 * (set by .ci/run, which installs it): then they fail.
 */
final class NatsServer implements AutoCloseable {
    static final String USER = "ringstore";
    static final String PASSWORD = "s3cret-pass";
    private final Path storeDir;
    private final int port;
    private Process process;

    NatsServer(Path storeDir) throws IOException {
        this.storeDir = storeDir;
        this.port = FreePorts.next();
    }

    /** The nats-server binary, or skips (fails with RINGSTORE_REQUIRE_BROKERS=1) when there is none. */
    static String binary() {
        for (String p : List.of("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        String why = "nats-server is not installed (apt-get install nats-server)";
        if ("1".equals(System.getenv("RINGSTORE_REQUIRE_BROKERS"))) {
            throw new AssertionError("RINGSTORE_REQUIRE_BROKERS=1 but " + why);
        }
        Assumptions.assumeTrue(false, why);
        return null;
    }

    String url() {
        return "nats://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /** Starts it with {@link #USER}/{@code password}; returns once it serves clients. */
    NatsServer start(String password) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running");
        }
        List<String> cmd = new ArrayList<>(List.of(binary(), "-js", "-a", "127.0.0.1", "-p", Integer.toString(port),
                "-sd", storeDir.toString(), "--user", USER, "--pass", password));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CountDownLatch ready = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.contains("Server is ready")) {
                        ready.countDown();
                    }
                }
            } catch (IOException ignored) {
                // it ended
            }
        });
        if (!ready.await(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("nats-server did not get ready on port " + port);
        }
        process = p;
        return this;
    }

    NatsServer start() throws IOException, InterruptedException {
        return start(PASSWORD);
    }

    /** SIGKILL, as a crash or a pulled plug of the NATS host would (its files stay as they are). */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: nats-server's clean stop. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("nats-server did not stop on SIGTERM");
        }
    }

    Connection connect() throws IOException, InterruptedException {
        return Nats.connect(new Options.Builder().server(url()).userInfo(USER, PASSWORD)
                .connectionTimeout(Duration.ofSeconds(5)).build());
    }

    /** The stream the README tells users to make: ringstore.>, file storage, a duplicate window. */
    void addStream(String name, Duration duplicateWindow) throws Exception {
        try (Connection c = connect()) {
            JetStreamManagement jsm = c.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects("ringstore.>").storageType(StorageType.File)
                    .duplicateWindow(duplicateWindow).build());
        }
    }

    /** How many messages the stream holds. */
    long count(String stream) throws Exception {
        try (Connection c = connect()) {
            return c.jetStreamManagement().getStreamInfo(stream).getStreamState().getMsgCount();
        }
    }

    /** Every message the stream holds, in stream order. */
    List<MessageInfo> messages(String stream) throws Exception {
        try (Connection c = connect()) {
            JetStreamManagement jsm = c.jetStreamManagement();
            var state = jsm.getStreamInfo(stream).getStreamState();
            List<MessageInfo> out = new ArrayList<>();
            for (long seq = state.getFirstSequence(); seq <= state.getLastSequence() && state.getMsgCount() > 0; seq++) {
                out.add(jsm.getMessage(stream, seq));
            }
            return out;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.toHandle().destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
