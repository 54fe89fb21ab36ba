package io.ringstore.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon as systemd sees it, in a real child JVM: READY=1 after recovery with the socket
 * up, STATUS= and WATCHDOG=1 while it works, STOPPING=1 and exit 0 on SIGTERM, and a second
 * start that scans nothing. A bad setting exits 2 naming its key.
 */
class DaemonLifecycleTest {
    @TempDir
    Path dir;

    private record Child(Process process, ConcurrentLinkedQueue<String> output) {}

    private Child start(Path notify, String... extra) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve",
                "--data", dir.resolve("data").toString(), "--socket", dir.resolve("s.sock").toString(),
                "--status-interval-seconds", "1"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (notify != null) {
            pb.environment().put("NOTIFY_SOCKET", notify.toString());
            pb.environment().put("WATCHDOG_USEC", "1500000");
        }
        Process p = pb.start();
        ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.add(line);
                }
            } catch (Exception ignored) {
                // the child ended
            }
        });
        return new Child(p, out);
    }

    @Test
    void readyWatchdogCleanStopAndNoRecoveryScanAfterIt() throws Throwable {
        Path notifyPath = dir.resolve("notify.sock");
        try (NotifyReceiver systemd = new NotifyReceiver(notifyPath)) {
            Child daemon = start(notifyPath);
            String ready = systemd.await("READY=1", 30_000);
            assertNotNull(ready, "no READY=1; output: " + daemon.output());
            assertTrue(ready.contains("STATUS=status "), ready);
            try (RingStoreClient client = RingStoreClient.connect(dir.resolve("s.sock"))) {
                client.append("door", io.ringstore.writer.ExpectedVersion.NO_STREAM,
                        List.of(io.ringstore.writer.EventData.of("opened", new byte[] {1}))).get(10, TimeUnit.SECONDS);
            }
            assertNotNull(systemd.await("WATCHDOG=1", 5_000), "no watchdog ping while healthy");
            assertNotNull(systemd.await("STATUS=status", 5_000), "no status update");

            new ProcessBuilder("kill", "-TERM", Long.toString(daemon.process().pid())).start().waitFor();
            assertNotNull(systemd.await("STOPPING=1", 10_000), "no STOPPING=1");
            assertTrue(daemon.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, daemon.process().exitValue(), "clean stop exits 0: " + daemon.output());
        }
        Child again = start(null);
        try {
            long deadline = System.currentTimeMillis() + 30_000;
            String recovery = null;
            while (recovery == null && System.currentTimeMillis() < deadline) {
                recovery = again.output().stream().filter(l -> l.contains("recovery scanFrom")).findFirst().orElse(null);
                if (recovery == null) {
                    again.process().waitFor(50, TimeUnit.MILLISECONDS);
                }
            }
            assertNotNull(recovery, "no recovery line: " + again.output());
            assertTrue(recovery.contains(" records=0 "), "a second start after a clean stop scans nothing: " + recovery);
            assertTrue(recovery.contains("(checkpoint)"), recovery);
        } finally {
            again.process().destroy();
            again.process().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aBadSettingExitsWithTheConfigCodeAndNamesTheKey() throws Exception {
        Path conf = dir.resolve("ringstore.conf");
        Files.writeString(conf, "# test\nsegment_size = 64m\nsplitter_window_bytes = lots\n");
        Child c = start(null, "--config", conf.toString());
        assertTrue(c.process().waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, c.process().exitValue());
        String all = String.join("\n", c.output());
        assertTrue(all.contains(conf + ":3") && all.contains("splitter_window_bytes"), all);

        Child unknown = start(null, "--led-colour", "red");
        assertTrue(unknown.process().waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, unknown.process().exitValue());
        assertTrue(String.join("\n", unknown.output()).contains("unknown setting 'led_colour'")
                || String.join("\n", unknown.output()).contains("led-colour"), String.join("\n", unknown.output()));
    }
}
