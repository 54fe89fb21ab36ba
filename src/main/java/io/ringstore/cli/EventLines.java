package io.ringstore.cli;

import io.ringstore.client.RecordedEvent;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON lines of the CLI.
 *
 * <p>Event line (read, read-all, subscribe):
 * {@code {"stream","version","position","type","id","time","data","metadata"}} where {@code id}
 * is the event id as a UUID, {@code time} ISO-8601 UTC with microseconds. Data and metadata are
 * bytes on the wire; when they are UTF-8 JSON they are printed as that JSON value, otherwise (or
 * with {@code --base64}) as {@code null} plus {@code "data_base64"} / {@code "metadata_base64"}
 * holding the exact bytes. Empty metadata (the usual case) prints as {@code "metadata":null}, and
 * an append line's {@code "metadata":null} or no metadata stores none.
 *
 * <p>Append line: {@code {"stream","type","data"}} and optionally {@code "metadata"},
 * {@code "data_base64"}, {@code "metadata_base64"} (exact bytes, win over the JSON value),
 * {@code "id"} (UUID or 32 hex digits: makes a retry idempotent) and {@code "expected_version"}
 * ({@code "any"}, {@code "no_stream"}, {@code "stream_exists"} or a number). A JSON data value is
 * stored as its compact text, so it reads back as the same value; other keys (such as those of
 * an event line) are ignored, so read output can be fed back to append.
 */
final class EventLines {
    private EventLines() {}

    /** A line append cannot use. */
    static final class BadLineException extends Exception {
        BadLineException(String message) {
            super(message);
        }
    }

    /** One append parsed from a line. */
    record Append(String stream, ExpectedVersion expected, EventData event) {}

    static String eventLine(RecordedEvent e, boolean base64) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", e.stream());
        m.put("version", e.version());
        m.put("position", e.position());
        m.put("type", e.type());
        m.put("id", uuid(e.eventId()));
        m.put("time", time(e.timestampMicros()));
        bytes(m, "data", e.data(), base64);
        if (e.metadata().length == 0) {
            m.put("metadata", null);
        } else {
            bytes(m, "metadata", e.metadata(), base64);
        }
        return Json.write(m);
    }

    static String ackLine(AppendResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", r.stream());
        m.put("version", r.lastVersion());
        m.put("position", r.lastPosition());
        m.put("first_version", r.firstVersion());
        m.put("first_position", r.firstPosition());
        m.put("durability", r.durability().name().toLowerCase(Locale.ROOT));
        m.put("replayed", r.replayed());
        m.put("ack_mode", r.ackMode().configName());
        if (r.solo()) {
            m.put("solo", true);
        }
        return Json.write(m);
    }

    /** An acknowledgement line for a refused append: {@code error} is the typed code. */
    static String errorLine(String stream, String error, String message, Long currentVersion, Integer line) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (stream != null) {
            m.put("stream", stream);
        }
        m.put("error", error);
        m.put("message", message);
        if (currentVersion != null) {
            m.put("current_version", currentVersion);
        }
        if (line != null) {
            m.put("line", line);
        }
        return Json.write(m);
    }

    private static void bytes(Map<String, Object> m, String name, byte[] b, boolean base64) {
        if (!base64 && b.length > 0) {
            String text = utf8(b);
            if (text != null) {
                try {
                    m.put(name, Json.parse(text));
                    return;
                } catch (Json.ParseException e) {
                    // Not JSON: base64 below.
                }
            }
        }
        m.put(name, null);
        m.put(name + "_base64", Base64.getEncoder().encodeToString(b));
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static String uuid(byte[] id) {
        if (id.length != 16) {
            return HexFormat.of().formatHex(id);
        }
        String h = HexFormat.of().formatHex(id);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20)
                + "-" + h.substring(20);
    }

    static String time(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L).toString();
    }

    /** Parses an append line. */
    static Append parseAppend(String line) throws BadLineException {
        Object v;
        try {
            v = Json.parse(line);
        } catch (Json.ParseException e) {
            throw new BadLineException("not JSON: " + e.getMessage());
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new BadLineException("expected a JSON object");
        }
        String stream = string(m, "stream", true);
        String type = string(m, "type", true);
        byte[] data = payload(m, "data");
        byte[] metadata = m.get("metadata") == null && m.get("metadata_base64") == null ? new byte[0] : payload(m, "metadata");
        byte[] id = m.get("id") == null ? null : eventId(string(m, "id", true));
        ExpectedVersion expected = m.containsKey("expected_version") ? expected(m.get("expected_version")) : ExpectedVersion.ANY;
        return new Append(stream, expected, new EventData(id, type, data, metadata));
    }

    private static String string(Map<?, ?> m, String key, boolean required) throws BadLineException {
        Object v = m.get(key);
        if (v == null) {
            if (required) {
                throw new BadLineException("missing \"" + key + "\"");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw new BadLineException("\"" + key + "\" must be a string");
        }
        if (required && s.isEmpty()) {
            throw new BadLineException("\"" + key + "\" must not be empty");
        }
        return s;
    }

    /** The bytes of {@code key}: {@code key_base64} if present, else the JSON value's compact text, else empty. */
    private static byte[] payload(Map<?, ?> m, String key) throws BadLineException {
        Object b64 = m.get(key + "_base64");
        if (b64 != null) {
            if (!(b64 instanceof String s)) {
                throw new BadLineException("\"" + key + "_base64\" must be a string");
            }
            try {
                return Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw new BadLineException("\"" + key + "_base64\" is not base64: " + e.getMessage());
            }
        }
        if (!m.containsKey(key)) {
            return new byte[0];
        }
        return Json.write(m.get(key)).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] eventId(String s) throws BadLineException {
        String hex = s.replace("-", "");
        if (hex.length() != 32) {
            throw new BadLineException("\"id\" must be a UUID or 32 hex digits: " + s);
        }
        try {
            return HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new BadLineException("\"id\" must be a UUID or 32 hex digits: " + s);
        }
    }

    static ExpectedVersion expected(Object v) throws BadLineException {
        if (v instanceof Json.JsonNumber n && n.isInteger()) {
            long x;
            try {
                x = Long.parseLong(n.text());
            } catch (NumberFormatException e) {
                throw new BadLineException("expected version out of range: " + n.text());
            }
            if (x < 0) {
                throw new BadLineException("expected version must be >= 0 (or any, no_stream, stream_exists): " + x);
            }
            return ExpectedVersion.exactly(x);
        }
        if (v instanceof String s) {
            return expected(s);
        }
        throw new BadLineException("expected version must be a number or \"any\", \"no_stream\", \"stream_exists\"");
    }

    static ExpectedVersion expected(String s) throws BadLineException {
        switch (s.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "any" -> {
                return ExpectedVersion.ANY;
            }
            case "no_stream" -> {
                return ExpectedVersion.NO_STREAM;
            }
            case "stream_exists", "exists" -> {
                return ExpectedVersion.STREAM_EXISTS;
            }
            default -> {
                try {
                    long x = Long.parseLong(s);
                    if (x >= 0) {
                        return ExpectedVersion.exactly(x);
                    }
                } catch (NumberFormatException e) {
                    // Fall through to the message.
                }
                throw new BadLineException("expected version must be a number or any, no_stream, stream_exists: " + s);
            }
        }
    }
}
