package io.ringstore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.replication.AckMode;
import io.ringstore.writer.AppendResult;
import io.ringstore.jsonlines.Json;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica-mode daemon in a real child JVM, through its real Unix socket, with no standby: an
 * append fails with REPLICA_UNAVAILABLE (wire code and CLI line), status and the fault light say
 * why; {@code ringstore replication solo} makes appends succeed with ack_mode local (and says
 * solo), {@code paired} brings the failure back; the journal records both commands.
 */
class ReplicaAckDaemonTest {
    @TempDir
    Path dir;

    private record Run(int code, List<String> lines, String err) {
        Map<?, ?> json(int i) throws Json.ParseException {
            return (Map<?, ?>) Json.parse(lines.get(i));
        }
    }

    private static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console console = new Console(new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                name -> null);
        int code = Main.run(args, console);
        String text = out.toString(StandardCharsets.UTF_8);
        return new Run(code, text.isEmpty() ? List.of() : List.of(text.split("\n")), err.toString(StandardCharsets.UTF_8));
    }

    private static String await(ConcurrentLinkedQueue<String> output, String text, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = output.stream().filter(l -> l.contains(text)).findFirst().orElse(null);
            if (line != null) {
                return line;
            }
            if (p.waitFor(50, TimeUnit.MILLISECONDS)) {
                break;
            }
        }
        return output.stream().filter(l -> l.contains(text)).findFirst().orElse(null);
    }

    private static List<EventData> event(String type) {
        return List.of(EventData.of(type, new byte[] {1}));
    }

    @Test
    void noStandbyFailsTypedSoloAcknowledgesLocallyPairedFailsAgain() throws Exception {
        Path socket = dir.resolve("s.sock");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve",
                "--data", dir.resolve("data").toString(), "--socket", socket.toString(),
                "--ack-mode", "replica-memory", "--replica-ack-timeout-ms", "300", "--status-interval-seconds", "60"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
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
        try {
            assertNotNull(await(out, "ready:", p), "daemon not ready: " + out);
            String s = socket.toString();
            try (RingStoreClient client = RingStoreClient.connect(socket)) {
                // The wire: a typed error whose message says where the append is.
                ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> client.append("door", ExpectedVersion.NO_STREAM, event("opened")).get(10, TimeUnit.SECONDS));
                RingStoreException r = assertInstanceOf(RingStoreException.class, e.getCause());
                assertEquals(ErrorCode.REPLICA_UNAVAILABLE, r.code());
                assertTrue(r.getMessage().contains("IS in this board's log"), r.getMessage());

                // The CLI: an error line with the code, exit code "refused".
                Run refused = cli("append", "--socket", s, "door", "closed");
                assertEquals(ExitCodes.REFUSED, refused.code(), refused.err());
                assertEquals("REPLICA_UNAVAILABLE", refused.json(0).get("error"));

                // Status says the mode, paired, why, and the fault light is on (the LED loop
                // catches up within its tick).
                Map<?, ?> status = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline) {
                    Run st = cli("status", "--socket", s);
                    assertEquals(ExitCodes.OK, st.code(), st.err());
                    status = st.json(0);
                    if ("on".equals(((Map<?, ?>) status.get("leds")).get("fault"))) {
                        break;
                    }
                    Thread.sleep(100);
                }
                assertEquals("replica-memory", status.get("ack_mode"));
                assertEquals("paired", status.get("replication"));
                assertEquals(Boolean.TRUE, status.get("replica_unavailable"));
                assertTrue(((Number) status.get("replica_ack_timeouts")).longValue() >= 2, status.toString());
                assertTrue(String.valueOf(status.get("ack_lag_reason")).contains("log shipping is not running"),
                        status.toString());
                assertEquals("on", ((Map<?, ?>) status.get("leds")).get("fault"), status.toString());

                // Solo: the operator's explicit choice; answers say local and solo.
                Run solo = cli("replication", "solo", "--socket", s);
                assertEquals(ExitCodes.OK, solo.code(), solo.err());
                assertEquals("solo", solo.json(0).get("replication"));
                assertEquals(Boolean.TRUE, solo.json(0).get("changed"));
                Run ok = cli("append", "--socket", s, "door", "opened");
                assertEquals(ExitCodes.OK, ok.code(), ok.err());
                assertEquals("local", ok.json(0).get("ack_mode"));
                assertEquals(Boolean.TRUE, ok.json(0).get("solo"));
                AppendResult wire = client.append("door", ExpectedVersion.ANY, event("closed")).get(10, TimeUnit.SECONDS);
                assertEquals(AckMode.LOCAL, wire.ackMode());
                assertTrue(wire.solo());
                Map<?, ?> soloStatus = cli("status", "--socket", s).json(0);
                assertEquals("solo", soloStatus.get("replication"));
                assertEquals(Boolean.FALSE, soloStatus.get("replica_unavailable"));

                // Paired again: the standby is required, and still missing.
                Run paired = cli("replication", "paired", "--socket", s);
                assertEquals(ExitCodes.OK, paired.code(), paired.err());
                assertEquals("paired", paired.json(0).get("replication"));
                e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> client.append("door", ExpectedVersion.ANY, event("opened")).get(10, TimeUnit.SECONDS));
                assertEquals(ErrorCode.REPLICA_UNAVAILABLE, ((RingStoreException) e.getCause()).code());
            }
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), String.join("\n", out));
            String journal = String.join("\n", out);
            String soloLine = await(out, "replication solo:", p);
            assertNotNull(soloLine, journal);
            assertTrue(soloLine.startsWith("<4>") && soloLine.contains("uid="), soloLine);
            assertNotNull(await(out, "replication paired:", p), journal);
            String unavailable = await(out, "appends fail with REPLICA_UNAVAILABLE", p);
            assertNotNull(unavailable, journal);
            assertTrue(unavailable.startsWith("<3>") && unavailable.contains("reason=no standby connected"), unavailable);
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
