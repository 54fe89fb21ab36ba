package io.ringstore.cli;

import io.ringstore.jsonlines.Json;
import io.ringstore.jsonlines.JsonLines;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.read.Direction;
import io.ringstore.server.TestServer;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a real daemon socket: JSON lines in, acknowledgements and events out, exit codes. */
class CliTest {
    @TempDir
    Path dir;

    private record Run(int code, List<String> lines, String err) {
        Map<?, ?> json(int i) throws Json.ParseException {
            return (Map<?, ?>) Json.parse(lines.get(i));
        }
    }

    private static Run cli(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console console = new Console(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                name -> null);
        int code = Main.run(args, console);
        String text = out.toString(StandardCharsets.UTF_8);
        List<String> lines = text.isEmpty() ? List.of() : List.of(text.split("\n"));
        return new Run(code, lines, err.toString(StandardCharsets.UTF_8));
    }

    private static long num(Object o) {
        return ((Number) o).longValue();
    }

    @Test
    void jsonLinesInAcknowledgementsOutInOrder() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            String s = t.socket.toString();
            String in = String.join("\n",
                    "{\"stream\":\"room-1\",\"type\":\"reading\",\"data\":{\"celsius\":21.5,\"big\":123456789012345678901234567890}}",
                    "{\"stream\":\"room-1\",\"type\":\"reading\",\"data\":[1,\"two\",null,true],\"expected_version\":0}",
                    "",
                    "{\"stream\":\"room-1\",\"type\":\"reading\",\"data\":1,\"expected_version\":7}",
                    "this is not json",
                    "{\"stream\":\"room-2\",\"data\":1}",
                    "{\"stream\":\"blob\",\"type\":\"raw\",\"data_base64\":\"AP8Q\",\"metadata\":{\"src\":\"cam\"},"
                            + "\"id\":\"0a0b0c0d-0000-4000-8000-000000000001\"}");
            Run r = cli(in, "append", "--socket", s);
            assertEquals(ExitCodes.WRONG_EXPECTED_VERSION, r.code(), "the code of the first failure; stderr: " + r.err());
            assertEquals(6, r.lines().size(), "one acknowledgement per non-blank line: " + r.lines());
            assertEquals("room-1", r.json(0).get("stream"));
            assertEquals(0L, num(r.json(0).get("version")));
            long firstPosition = num(r.json(0).get("position"));
            assertEquals(1L, num(r.json(1).get("version")));
            assertTrue(num(r.json(1).get("position")) > firstPosition);
            assertEquals("WRONG_EXPECTED_VERSION", r.json(2).get("error"));
            assertEquals(1L, num(r.json(2).get("current_version")));
            assertEquals(4L, num(r.json(2).get("line")));
            assertEquals("BAD_INPUT", r.json(3).get("error"));
            assertEquals("BAD_INPUT", r.json(4).get("error"));
            assertTrue(((String) r.json(4).get("message")).contains("type"));
            assertEquals(0L, num(r.json(5).get("version")));

            // Events come back with the same JSON values, and exact bytes for binary.
            Run read = cli("", "read", "--socket", s, "room-1");
            assertEquals(ExitCodes.OK, read.code(), read.err());
            assertEquals(2, read.lines().size());
            Map<?, ?> e0 = read.json(0);
            for (String key : List.of("stream", "version", "position", "type", "id", "time", "data", "metadata")) {
                assertTrue(e0.containsKey(key), "event line has " + key);
            }
            assertEquals("{\"celsius\":21.5,\"big\":123456789012345678901234567890}", Json.write(e0.get("data")));
            assertEquals("[1,\"two\",null,true]", Json.write(read.json(1).get("data")));
            assertNull(e0.get("metadata"));
            assertEquals(firstPosition, num(e0.get("position")));

            Run blob = cli("", "read", "--socket", s, "blob");
            Map<?, ?> b = blob.json(0);
            assertNull(b.get("data"));
            assertEquals("AP8Q", b.get("data_base64"));
            assertEquals("{\"src\":\"cam\"}", Json.write(b.get("metadata")));
            assertEquals("0a0b0c0d-0000-4000-8000-000000000001", b.get("id"));
            // Feeding a read line back to append stores the very same bytes.
            String copied = blob.lines().getFirst().replace("\"stream\":\"blob\"", "\"stream\":\"blob-copy\"")
                    .replace("\"id\":\"0a0b0c0d-0000-4000-8000-000000000001\",", "");
            assertEquals(ExitCodes.OK, cli(copied + "\n", "append", "--socket", s).code());
            var copy = t.client().readStream("blob-copy", 0, 1, Direction.FORWARD).join().events().getFirst();
            assertArrayEquals(new byte[] {0, (byte) 0xff, 0x10}, copy.data());
            assertEquals("{\"src\":\"cam\"}", new String(copy.metadata(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void stopOnErrorStopsAtTheFirstRefusal() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            String in = "{\"stream\":\"a\",\"type\":\"t\",\"data\":1,\"expected_version\":\"no_stream\"}\n"
                    + "{\"stream\":\"a\",\"type\":\"t\",\"data\":2,\"expected_version\":\"no_stream\"}\n"
                    + "{\"stream\":\"a\",\"type\":\"t\",\"data\":3}\n";
            Run r = cli(in, "append", "--stop-on-error", "--socket", t.socket.toString());
            assertEquals(ExitCodes.WRONG_EXPECTED_VERSION, r.code());
            assertEquals(2, r.lines().size(), r.lines().toString());
            assertEquals("WRONG_EXPECTED_VERSION", r.json(1).get("error"));
            assertEquals(1, t.client().readStream("a", 0, 10, Direction.FORWARD).join().events().size(),
                    "nothing after the refused line was appended");
        }
    }

    @Test
    void commandLineAppendReadAllSubscribeAndStatus() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            String s = t.socket.toString();
            Run a = cli("", "append", "--socket", s, "sensor-1", "reading", "{\"c\": 21.5}");
            assertEquals(ExitCodes.OK, a.code(), a.err());
            assertEquals(0L, num(a.json(0).get("version")));
            assertEquals(ExitCodes.OK, cli("", "append", "--socket", s, "--expected", "0", "sensor-1", "reading", "22").code());
            assertEquals(ExitCodes.WRONG_EXPECTED_VERSION,
                    cli("", "append", "--socket", s, "--expected", "no-stream", "sensor-1", "reading", "1").code());
            Run bin = cli("", "append", "--socket", s, "--data-base64", "3q2+7w==", "sensor-2", "raw");
            assertEquals(ExitCodes.OK, bin.code(), bin.err());

            Run all = cli("", "read-all", "--socket", s);
            assertEquals(3, all.lines().size());
            assertEquals("{\"c\":21.5}", Json.write(all.json(0).get("data")));
            assertEquals("3q2+7w==", all.json(2).get("data_base64"));
            Run backward = cli("", "read", "--socket", s, "--backward", "--count", "1", "sensor-1");
            assertEquals(1L, num(backward.json(0).get("version")));

            Run sub = cli("", "subscribe", "--socket", s, "--count", "2", "sensor-1");
            assertEquals(ExitCodes.OK, sub.code(), sub.err());
            assertEquals(List.of(0L, 1L), List.of(num(sub.json(0).get("version")), num(sub.json(1).get("version"))));
            Run resume = cli("", "subscribe", "--socket", s, "--count", "1",
                    "--after-position", Long.toString(num(all.json(1).get("position"))));
            assertEquals("sensor-2", resume.json(0).get("stream"));

            Run status = cli("", "status", "--socket", s);
            assertEquals(ExitCodes.OK, status.code());
            assertEquals(3L, num(status.json(0).get("events_appended")));
            assertEquals("read-write", status.json(0).get("access"));
        }
    }

    @Test
    void exitCodesTellFailuresApart() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            String s = t.socket.toString();
            long at = t.client().append("x", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {1}))).join().firstPosition();
            assertEquals(ExitCodes.NOT_FOUND, cli("", "read", "--socket", s, "nope").code());
            assertEquals(ExitCodes.BAD_INPUT, cli("", "append", "--socket", s, "x", "t", "not-json").code());
            assertEquals(ExitCodes.BAD_INPUT, cli("", "append", "--socket", s, "$x", "t", "1").code());
            assertEquals(ExitCodes.BAD_INPUT, cli("", "read-all", "--socket", s, "--from", Long.toString(at + 8)).code(),
                    "not the position of an event");
            assertEquals(ExitCodes.USAGE, cli("", "read", "--socket", s, "--bogus", "x").code());
            assertEquals(ExitCodes.USAGE, cli("", "subscribe", "--socket", s, "--from-end", "--from-start").code());
        }
        Path gone = dir.resolve("nobody-here.sock");
        for (String[] args : List.of(new String[] {"status"}, new String[] {"read", "x"}, new String[] {"read-all"},
                new String[] {"append", "x", "t", "1"}, new String[] {"subscribe"})) {
            List<String> a = new ArrayList<>(List.of(args));
            a.add(1, "--socket");
            a.add(2, gone.toString());
            Run r = cli("", a.toArray(String[]::new));
            assertEquals(ExitCodes.CANNOT_CONNECT, r.code(), String.join(" ", args));
            assertTrue(r.err().contains("cannot connect"), r.err());
        }
        for (String command : List.of("serve", "run", "append", "read", "read-all", "subscribe", "status")) {
            Run help = cli("", command, "--help");
            assertEquals(ExitCodes.OK, help.code(), command);
            assertTrue(String.join("\n", help.lines()).contains("usage: ringstore"), command);
        }
        assertEquals(ExitCodes.USAGE, cli("", "frobnicate").code());
        assertFalse(cli("", "--help").lines().isEmpty());
    }

    @Test
    void limitsAndDeleteThroughTheSocket() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            String s = t.socket.toString();
            for (int i = 0; i < 6; i++) {
                assertEquals(ExitCodes.OK, cli("", "append", "--socket", s, "room-9", "reading", Integer.toString(i)).code());
            }
            Run set = cli("", "limits", "--socket", s, "--max-count", "2", "--max-age", "7d", "room-9");
            assertEquals(ExitCodes.OK, set.code(), set.err());
            Run get = cli("", "limits", "--socket", s, "room-9");
            assertEquals(ExitCodes.OK, get.code(), get.err());
            Map<?, ?> own = (Map<?, ?>) get.json(0).get("own");
            assertEquals(2L, num(own.get("max_count")));
            assertEquals(7L * 86_400, num(own.get("max_age_seconds")));
            Run read = cli("", "read", "--socket", s, "room-9");
            assertEquals(List.of(4L, 5L), List.of(num(read.json(0).get("version")), num(read.json(1).get("version"))));
            assertEquals(2, read.lines().size(), read.lines().toString());

            assertEquals(ExitCodes.USAGE, cli("", "limits", "--socket", s, "--max-count", "0", "room-9").code());
            assertEquals(ExitCodes.USAGE, cli("", "limits", "--socket", s, "--max-age", "soon", "room-9").code());
            assertEquals(ExitCodes.NOT_FOUND, cli("", "delete", "--socket", s, "nothing-here").code());

            Run stale = cli("", "delete", "--socket", s, "--hard", "--expected", "3", "room-9");
            assertEquals(ExitCodes.WRONG_EXPECTED_VERSION, stale.code(), stale.err());
            assertEquals(2, cli("", "read", "--socket", s, "room-9").lines().size(), "a refused delete deletes nothing");
            assertEquals(ExitCodes.USAGE, cli("", "delete", "--socket", s, "--expected", "soon", "room-9").code());
            assertEquals(ExitCodes.OK, cli("", "delete", "--socket", s, "--hard", "--expected", "5", "room-9").code());
            Run refused = cli("", "append", "--socket", s, "room-9", "reading", "7");
            assertEquals(ExitCodes.REFUSED, refused.code());
            assertEquals("STREAM_DELETED", refused.json(0).get("error"));
            assertEquals(ExitCodes.REFUSED, cli("", "read", "--socket", s, "room-9").code());
            assertEquals(Boolean.TRUE, cli("", "limits", "--socket", s, "room-9").json(0).get("deleted"));
        }
    }
}
