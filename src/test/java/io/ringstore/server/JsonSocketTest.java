package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RecordedEvent;
import io.ringstore.jsonlines.Json;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON-lines socket, against an in-process server on real Unix sockets (issue 17). */
class JsonSocketTest {
    @TempDir
    Path dir;

    private TestServer start() throws Exception {
        return TestServer.start(dir, c -> c.withJsonSocket(dir.resolve("json.sock")));
    }

    private static long number(Map<?, ?> m, String key) {
        Object v = m.get(key);
        assertNotNull(v, key + " missing in " + Json.write(m));
        return ((Number) v).longValue();
    }

    @Test
    void everyOperationAnswersOneLineWithTheCodesOfTheProtobufProtocol() throws Exception {
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            Map<?, ?> ack = c.ask("{\"op\":\"append\",\"stream\":\"pi-cpu\",\"type\":\"reading\",\"data\":{\"celsius\":48.2}}");
            assertEquals("pi-cpu", ack.get("stream"));
            assertEquals(0L, number(ack, "version"));
            assertEquals(false, ack.get("replayed"));

            Map<?, ?> batch = c.ask("{\"op\":\"append\",\"stream\":\"pi-cpu\",\"expected_version\":0,\"events\":["
                    + "{\"type\":\"reading\",\"data\":{\"celsius\":49},\"id\":\"00000000-0000-4000-8000-000000000001\"},"
                    + "{\"type\":\"reading\",\"data\":{\"celsius\":50},\"id\":\"00000000-0000-4000-8000-000000000002\"}]}");
            assertEquals(1L, number(batch, "first_version"));
            assertEquals(2L, number(batch, "version"));

            Map<?, ?> retry = c.ask("{\"op\":\"append\",\"stream\":\"pi-cpu\",\"type\":\"reading\",\"data\":1,"
                    + "\"id\":\"00000000-0000-4000-8000-000000000001\"}");
            assertEquals(true, retry.get("replayed"), "the same id, the same stream: a replay");
            assertEquals(1L, number(retry, "version"));

            Map<?, ?> conflict = c.ask("{\"op\":\"append\",\"stream\":\"other\",\"type\":\"reading\","
                    + "\"id\":\"00000000-0000-4000-8000-000000000001\"}");
            assertEquals("EVENT_ID_CONFLICT", conflict.get("error"));

            Map<?, ?> wrong = c.ask("{\"op\":\"append\",\"stream\":\"pi-cpu\",\"type\":\"t\",\"expected_version\":7}");
            assertEquals("WRONG_EXPECTED_VERSION", wrong.get("error"));
            assertEquals(2L, number(wrong, "current_version"));
            assertNotNull(wrong.get("message"));

            // Bad lines: a typed error line each, and the connection goes on.
            Map<?, ?> notJson = c.ask("{\"op\":\"append\",");
            assertEquals("INVALID_REQUEST", notJson.get("error"));
            assertEquals("MALFORMED_LINE", notJson.get("detail"));
            assertEquals("MALFORMED_LINE", c.ask("{\"op\":\"nope\"}").get("detail"));
            assertEquals("MALFORMED_LINE", c.ask("{\"op\":\"read\",\"stream\":\"pi-cpu\",\"from_versoin\":1}").get("detail"));
            assertEquals("MALFORMED_LINE", c.ask("[1,2]").get("detail"));
            Map<?, ?> badStream = c.ask("{\"op\":\"append\",\"stream\":\"$sys\",\"type\":\"t\"}");
            assertEquals("INVALID_REQUEST", badStream.get("error"));
            assertEquals("INVALID_FIELD", badStream.get("detail"));

            // Reads: forward and backward paging.
            Map<?, ?> page = c.ask("{\"op\":\"read\",\"stream\":\"pi-cpu\",\"max_count\":2}");
            List<?> events = (List<?>) page.get("events");
            assertEquals(2, events.size());
            assertEquals("{\"celsius\":48.2}", Json.write(((Map<?, ?>) events.get(0)).get("data")));
            assertEquals(2L, number(page, "next_version"));
            assertEquals(false, page.get("end_of_stream"));
            Map<?, ?> rest = c.ask("{\"op\":\"read\",\"stream\":\"pi-cpu\",\"from_version\":2}");
            assertEquals(1, ((List<?>) rest.get("events")).size());
            assertEquals(true, rest.get("end_of_stream"));
            Map<?, ?> back = c.ask("{\"op\":\"read\",\"stream\":\"pi-cpu\",\"direction\":\"backward\",\"max_count\":2}");
            List<?> backEvents = (List<?>) back.get("events");
            assertEquals(2L, number((Map<?, ?>) backEvents.get(0), "version"), "backward without from_version: from the end");
            assertEquals(0L, number(back, "next_version"));
            Map<?, ?> missing = c.ask("{\"op\":\"read\",\"stream\":\"never\"}");
            assertEquals("STREAM_NOT_FOUND", missing.get("error"));

            // $all, paged by position.
            Map<?, ?> all = c.ask("{\"op\":\"read_all\",\"max_count\":2}");
            List<?> allEvents = (List<?>) all.get("events");
            assertEquals(2, allEvents.size());
            long next = number(all, "next_position");
            Map<?, ?> all2 = c.ask("{\"op\":\"read_all\",\"from_position\":" + next + "}");
            assertEquals(number((Map<?, ?>) ((List<?>) all2.get("events")).get(0), "position"), next, "from_position includes its event");
            Map<?, ?> badPosition = c.ask("{\"op\":\"read_all\",\"from_position\":" + (next + 1) + "}");
            assertEquals("NOT_AN_EVENT_POSITION", badPosition.get("detail"));

            // Status with the limits, limits, delete, ping.
            Map<?, ?> status = c.ask("{\"op\":\"status\"}");
            Map<?, ?> limits = (Map<?, ?>) status.get("limits");
            assertEquals(64L, number(limits, "max_in_flight"));
            assertEquals(4L << 20, number(limits, "max_event_bytes"));
            assertEquals(4096L, number(limits, "max_read_count"));
            assertTrue(number(limits, "max_response_bytes") > number(limits, "max_request_bytes"));
            assertTrue(number(c.ask("{\"op\":\"set_limits\",\"stream\":\"pi-cpu\",\"max_count\":2}"), "position") > 0);
            Map<?, ?> got = c.ask("{\"op\":\"get_limits\",\"stream\":\"pi-cpu\"}");
            assertEquals(2L, number((Map<?, ?>) got.get("own"), "max_count"));
            assertEquals(false, got.get("deleted"));
            assertTrue(number(c.ask("{\"op\":\"delete\",\"stream\":\"pi-cpu\",\"expected_version\":2}"), "position") > 0);
            assertEquals(0, ((List<?>) c.ask("{\"op\":\"read\",\"stream\":\"pi-cpu\"}").get("events")).size(),
                    "soft-deleted: nothing to read");
            assertEquals(true, c.ask("{\"op\":\"ping\"}").get("pong"));
        }
    }

    @Test
    void whatTheSocketAppendsIsWhatTheJavaClientReads() throws Exception {
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            c.ask("{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\",\"data\":{\"a\":[1,\"x\"]},\"metadata\":{\"m\":true},"
                    + "\"id\":\"0123456789abcdef0123456789abcdef\"}");
            c.ask("{\"op\":\"append\",\"stream\":\"s\",\"type\":\"bin\",\"data_base64\":\"AAEC/w==\"}");
            List<RecordedEvent> read = t.client().readStream("s", 0, 10, io.ringstore.read.Direction.FORWARD).join().events();
            assertEquals("{\"a\":[1,\"x\"]}", new String(read.get(0).data(), StandardCharsets.UTF_8));
            assertEquals("{\"m\":true}", new String(read.get(0).metadata(), StandardCharsets.UTF_8));
            assertEquals("0123456789abcdef0123456789abcdef", java.util.HexFormat.of().formatHex(read.get(0).eventId()));
            assertEquals(List.of((byte) 0, (byte) 1, (byte) 2, (byte) -1),
                    List.of(read.get(1).data()[0], read.get(1).data()[1], read.get(1).data()[2], read.get(1).data()[3]));
            // And back out as the CLI's event line.
            Map<?, ?> page = c.ask("{\"op\":\"read\",\"stream\":\"s\"}");
            Map<?, ?> bin = (Map<?, ?>) ((List<?>) page.get("events")).get(1);
            assertNull(bin.get("data"));
            assertEquals("AAEC/w==", bin.get("data_base64"));
            assertEquals("01234567-89ab-cdef-0123-456789abcdef", ((Map<?, ?>) ((List<?>) page.get("events")).get(0)).get("id"));
        }
    }

    @Test
    void pipelinedAnswersComeBackInRequestOrder() throws Exception {
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            c.ask("{\"op\":\"append\",\"stream\":\"r\",\"type\":\"t\"}");
            // Hold the writer's force: the appends wait while the reads between them complete,
            // so the answers complete out of order and must be put back in order.
            CountDownLatch held = t.io.hold();
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                lines.add("{\"op\":\"append\",\"stream\":\"p\",\"type\":\"t\",\"data\":" + i + "}");
                lines.add("{\"op\":\"read\",\"stream\":\"r\"}");
            }
            c.send(lines.toArray(String[]::new));
            assertTrue(held.await(10, TimeUnit.SECONDS), "an append reached the force");
            Thread.sleep(200); // let the reads finish first (only makes the reordering likelier; not waited on)
            t.io.open();
            for (int i = 0; i < 20; i++) {
                Map<?, ?> ack = c.json();
                assertEquals("p", ack.get("stream"), "line " + (2 * i) + " is the append's answer: " + Json.write(ack));
                assertEquals((long) i, number(ack, "version"));
                Map<?, ?> read = c.json();
                assertNotNull(read.get("events"), "line " + (2 * i + 1) + " is the read's answer: " + Json.write(read));
            }
        }
    }

    @Test
    void anOverLongLineIsRefusedAndClosesTheConnectionAndStoresNothing() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c.withMaxFrameBytes(4096).withJsonSocket(dir.resolve("json.sock")));
             JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            c.ask("{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\"}");
            long before = t.store.committedPosition();
            String big = "{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\",\"data\":\"" + "x".repeat(5000) + "\"}";
            c.send(big, "{\"op\":\"append\",\"stream\":\"s\",\"type\":\"after\"}");
            Map<?, ?> refused = c.json();
            assertEquals("FRAME_TOO_LARGE", refused.get("error"));
            assertNull(c.line(), "the connection is closed after the refusal");
            assertEquals(before, t.store.committedPosition(), "nothing stored: not the long line, not the line after it");
            // The server goes on serving others.
            try (JsonConnection d = new JsonConnection(t.server.jsonSocketPath())) {
                assertEquals(1L, number(d.ask("{\"op\":\"append\",\"stream\":\"s\",\"type\":\"t\"}"), "version"));
            }
        }
    }

    @Test
    void subscribeSendsEventLinesThenLiveOnesUntilTheClientCloses() throws Exception {
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            t.client().append("pi-cpu", ExpectedVersion.ANY, List.of(new EventData(null, "reading",
                    "{\"c\":1}".getBytes(StandardCharsets.UTF_8), null))).join();
            c.send("{\"op\":\"subscribe\",\"stream\":\"pi-cpu\"}");
            assertNotNull(c.json().get("subscribed"));
            Map<?, ?> first = c.json();
            assertEquals(0L, number(first, "version"));
            assertEquals("{\"c\":1}", Json.write(first.get("data")));
            long caughtUp = number((Map<?, ?>) c.json().get("caught_up"), "position");
            assertTrue(caughtUp > number(first, "position"));
            // A line sent after subscribe is ignored, not answered among the events.
            c.send("{\"op\":\"ping\"}");
            long live = t.client().append("pi-cpu", ExpectedVersion.ANY, List.of(new EventData(null, "reading",
                    "2".getBytes(StandardCharsets.UTF_8), null))).join().firstPosition();
            Map<?, ?> liveLine = c.json();
            assertEquals(live, number(liveLine, "position"));
            assertEquals(1L, number(liveLine, "version"));
            assertEquals(1, t.server.subscriptionCount());
            c.close();
            assertTrue(t.server.awaitState((conns, subs) -> subs == 0 && conns == 2, 10_000),
                    "closing ends the subscription and its connection (the test's two Java clients stay)");
        }
    }

    @Test
    void aRefusedSubscribeIsTheLastLine() throws Exception {
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            Map<?, ?> e = c.ask("{\"op\":\"subscribe\",\"stream\":\"$nope\"}");
            assertEquals("INVALID_REQUEST", e.get("error"));
            assertNull(c.line(), "the connection ends after a refused subscribe");
        }
    }

    @Test
    void socatPushesAReadingWithoutAJvm() throws Exception {
        Path socat = Path.of("/usr/bin/socat");
        Assumptions.assumeTrue(java.nio.file.Files.isExecutable(socat),
                "socat is not installed (apt-get install socat; .ci/run installs it)");
        try (TestServer t = start()) {
            Process p = new ProcessBuilder("sh", "-c", "echo '{\"op\":\"append\",\"stream\":\"pi-cpu\",\"type\":\"reading\","
                    + "\"data\":{\"celsius\":48.2}}' | socat - UNIX-CONNECT:" + t.server.jsonSocketPath())
                    .redirectErrorStream(true).start();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "socat finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, p.exitValue(), out);
            Map<?, ?> ack = (Map<?, ?>) Json.parse(out);
            assertEquals("pi-cpu", ack.get("stream"));
            assertEquals(0L, number(ack, "version"));
            RecordedEvent e = t.client().readStream("pi-cpu", 0, 10, io.ringstore.read.Direction.FORWARD).join().events().getFirst();
            assertEquals("{\"celsius\":48.2}", new String(e.data(), StandardCharsets.UTF_8));
            assertFalse(t.store.committedPosition() == 0);
        }
    }

    @Test
    void randomBadLinesEachGetOneErrorLineAndStoreNothing() throws Exception {
        java.util.Random random = new java.util.Random(17);
        String[] pieces = {"{", "}", "[", "]", "\"op\"", ":", ",", "\"append\"", "\"stream\"", "\"\"", "1", "-1", "null",
                "true", "\"events\"", "\"type\"", "\"read_all\"", "\"from_position\"", "\"\\u0000\"", "1e999", "\u00e9", " "};
        try (TestServer t = start(); JsonConnection c = new JsonConnection(t.server.jsonSocketPath())) {
            long before = t.store.committedPosition();
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                StringBuilder sb = new StringBuilder();
                int n = 1 + random.nextInt(12);
                for (int k = 0; k < n; k++) {
                    sb.append(pieces[random.nextInt(pieces.length)]);
                }
                if (sb.toString().isBlank() || sb.toString().contains("\"append\"") && sb.toString().contains("\"type\"")) {
                    sb.append('{'); // never a well-formed append by chance
                }
                lines.add(sb.toString());
            }
            // Raw bytes that are not UTF-8, too.
            c.write(new byte[] {(byte) 0xc3, (byte) 0x28, '\n'});
            assertEquals("MALFORMED_LINE", c.json().get("detail"));
            c.send(lines.toArray(String[]::new));
            for (String line : lines) {
                Map<?, ?> answer = c.json();
                assertNotNull(answer.get("error"), () -> "line " + line + " answered " + Json.write(answer));
            }
            assertEquals(true, c.ask("{\"op\":\"ping\"}").get("pong"), "the connection goes on");
            assertEquals(before, t.store.committedPosition(), "nothing stored");
        }
    }
}
