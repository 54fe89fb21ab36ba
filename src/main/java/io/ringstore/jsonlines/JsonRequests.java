package io.ringstore.jsonlines;

import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.DeleteStreamRequest;
import io.ringstore.protocol.v1.Direction;
import io.ringstore.protocol.v1.GetStreamLimitsRequest;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.SetStreamLimitsRequest;
import io.ringstore.protocol.v1.StatusRequest;
import io.ringstore.protocol.v1.StreamLimits;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.writer.EventData;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request lines of the JSON-lines socket, turned into the protobuf requests they stand for
 * (so that both sockets run one implementation of every operation). Each line is a JSON object
 * with {@code "op"}; README "JSON lines" lists the ops and their keys. An append line is the
 * CLI's append line ({@link JsonLines#append}) plus {@code "op":"append"}, or with
 * {@code "events":[...]} (each an append line's type, data, metadata and id) for a batch; like
 * the CLI's, it ignores keys it does not know, so read output can be fed back. The other ops
 * refuse unknown keys, so a misspelt one is not silently left out.
 */
public final class JsonRequests {
    private JsonRequests() {}

    private static final Set<String> READ_KEYS = Set.of("op", "stream", "direction", "from_version", "max_count");
    private static final Set<String> READ_ALL_KEYS = Set.of("op", "from_position", "max_count");
    private static final Set<String> SUBSCRIBE_KEYS = Set.of("op", "stream", "from", "after_position", "from_version");
    private static final Set<String> STATUS_KEYS = Set.of("op", "drain_splitter");
    private static final Set<String> GET_LIMITS_KEYS = Set.of("op", "stream");
    private static final Set<String> SET_LIMITS_KEYS = Set.of("op", "stream", "max_count", "max_age_seconds", "truncate_before");
    private static final Set<String> DELETE_KEYS = Set.of("op", "stream", "hard", "expected_version");
    private static final Set<String> PING_KEYS = Set.of("op");

    /** The request a line asks for, under {@code id}; a line that is none throws. */
    public static Request parse(long id, String line) throws JsonLines.BadLineException {
        Map<?, ?> m = JsonLines.object(line);
        Object op = m.get("op");
        if (!(op instanceof String name)) {
            throw new JsonLines.BadLineException("\"op\" is missing or not a string (append, read, read_all, subscribe, "
                    + "status, get_limits, set_limits, delete, ping)");
        }
        Request.Builder r = Request.newBuilder().setId(id);
        switch (name) {
            case "append" -> r.setAppend(append(m));
            case "read" -> r.setReadStream(read(check(m, READ_KEYS)));
            case "read_all" -> r.setReadAll(ReadAllRequest.newBuilder()
                    .setFromPosition(integer(check(m, READ_ALL_KEYS), "from_position", 0))
                    .setMaxCount((int) Math.min(Integer.MAX_VALUE, integer(m, "max_count", 0))));
            case "subscribe" -> r.setSubscribe(subscribe(check(m, SUBSCRIBE_KEYS)));
            case "status" -> r.setStatus(StatusRequest.newBuilder().setDrainSplitter(bool(check(m, STATUS_KEYS), "drain_splitter")));
            case "get_limits" -> r.setGetStreamLimits(GetStreamLimitsRequest.newBuilder()
                    .setStream(JsonLines.string(check(m, GET_LIMITS_KEYS), "stream", true)));
            case "set_limits" -> r.setSetStreamLimits(setLimits(check(m, SET_LIMITS_KEYS)));
            case "delete" -> r.setDeleteStream(delete(check(m, DELETE_KEYS)));
            case "ping" -> r.setPing(PingRequest.newBuilder().build());
            default -> {
                check(m, PING_KEYS);
                throw new JsonLines.BadLineException("unknown op: " + name);
            }
        }
        return r.build();
    }

    private static AppendRequest append(Map<?, ?> m) throws JsonLines.BadLineException {
        AppendRequest.Builder a = AppendRequest.newBuilder().setStream(JsonLines.string(m, "stream", true));
        Wire.expected(a, m.containsKey("expected_version")
                ? JsonLines.expected(m.get("expected_version")) : io.ringstore.writer.ExpectedVersion.ANY);
        Object events = m.get("events");
        if (events == null) {
            a.addEvents(newEvent(JsonLines.event(m)));
        } else if (events instanceof List<?> list && !list.isEmpty()) {
            for (Object e : list) {
                if (!(e instanceof Map<?, ?> em)) {
                    throw new JsonLines.BadLineException("each of \"events\" must be an object");
                }
                a.addEvents(newEvent(JsonLines.event(em)));
            }
        } else {
            throw new JsonLines.BadLineException("\"events\" must be a non-empty array");
        }
        return a.build();
    }

    private static NewEvent newEvent(EventData e) {
        NewEvent.Builder b = NewEvent.newBuilder().setType(e.type())
                .setData(com.google.protobuf.ByteString.copyFrom(e.data()))
                .setMetadata(com.google.protobuf.ByteString.copyFrom(e.metadata()));
        if (e.eventId() != null) {
            b.setEventId(com.google.protobuf.ByteString.copyFrom(e.eventId()));
        }
        return b.build();
    }

    private static ReadStreamRequest read(Map<?, ?> m) throws JsonLines.BadLineException {
        ReadStreamRequest.Builder r = ReadStreamRequest.newBuilder().setStream(JsonLines.string(m, "stream", true));
        Object d = m.get("direction");
        if (d == null || "forward".equals(d)) {
            r.setDirection(Direction.FORWARD);
        } else if ("backward".equals(d)) {
            r.setDirection(Direction.BACKWARD);
        } else {
            throw new JsonLines.BadLineException("\"direction\" must be \"forward\" or \"backward\"");
        }
        if (m.get("from_version") != null) {
            r.setFromVersion(signed(m, "from_version"));
        }
        return r.setMaxCount((int) Math.min(Integer.MAX_VALUE, integer(m, "max_count", 0))).build();
    }

    private static SubscribeRequest subscribe(Map<?, ?> m) throws JsonLines.BadLineException {
        SubscribeRequest.Builder s = SubscribeRequest.newBuilder();
        String stream = JsonLines.string(m, "stream", false);
        s.setStream(stream == null ? "$all" : stream);
        int set = (m.get("from") != null ? 1 : 0) + (m.get("after_position") != null ? 1 : 0)
                + (m.get("from_version") != null ? 1 : 0);
        if (set > 1) {
            throw new JsonLines.BadLineException("give at most one of \"from\", \"after_position\", \"from_version\"");
        }
        Object from = m.get("from");
        if (from != null) {
            if ("start".equals(from)) {
                s.setFromStart(true);
            } else if ("end".equals(from)) {
                s.setFromEnd(true);
            } else {
                throw new JsonLines.BadLineException("\"from\" must be \"start\" or \"end\"");
            }
        } else if (m.get("after_position") != null) {
            s.setAfterPosition(integer(m, "after_position", 0));
        } else if (m.get("from_version") != null) {
            s.setFromVersion(integer(m, "from_version", 0));
        } else {
            s.setFromStart(true);
        }
        return s.build();
    }

    private static SetStreamLimitsRequest setLimits(Map<?, ?> m) throws JsonLines.BadLineException {
        StreamLimits.Builder l = StreamLimits.newBuilder();
        if (m.get("max_count") != null) {
            l.setMaxCount(integer(m, "max_count", 0));
        }
        if (m.get("max_age_seconds") != null) {
            l.setMaxAgeSeconds(integer(m, "max_age_seconds", 0));
        }
        if (m.get("truncate_before") != null) {
            l.setTruncateBefore(integer(m, "truncate_before", 0));
        }
        return SetStreamLimitsRequest.newBuilder().setStream(JsonLines.string(m, "stream", true)).setLimits(l).build();
    }

    private static DeleteStreamRequest delete(Map<?, ?> m) throws JsonLines.BadLineException {
        DeleteStreamRequest.Builder d = DeleteStreamRequest.newBuilder()
                .setStream(JsonLines.string(m, "stream", true)).setHard(bool(m, "hard"));
        Wire.expected(d, m.containsKey("expected_version")
                ? JsonLines.expected(m.get("expected_version")) : io.ringstore.writer.ExpectedVersion.ANY);
        return d.build();
    }

    private static Map<?, ?> check(Map<?, ?> m, Set<String> known) throws JsonLines.BadLineException {
        for (Object k : m.keySet()) {
            if (!known.contains(k)) {
                throw new JsonLines.BadLineException("unknown key \"" + k + "\" for op " + m.get("op"));
            }
        }
        return m;
    }

    /** A non-negative integer, or {@code absent} when the key is missing or null. */
    private static long integer(Map<?, ?> m, String key, long absent) throws JsonLines.BadLineException {
        if (m.get(key) == null) {
            return absent;
        }
        long v = signed(m, key);
        if (v < 0) {
            throw new JsonLines.BadLineException("\"" + key + "\" must be >= 0: " + v);
        }
        return v;
    }

    private static long signed(Map<?, ?> m, String key) throws JsonLines.BadLineException {
        if (!(m.get(key) instanceof Json.JsonNumber n) || !n.isInteger()) {
            throw new JsonLines.BadLineException("\"" + key + "\" must be an integer");
        }
        try {
            return Long.parseLong(n.text());
        } catch (NumberFormatException e) {
            throw new JsonLines.BadLineException("\"" + key + "\" out of range: " + n.text());
        }
    }

    private static boolean bool(Map<?, ?> m, String key) throws JsonLines.BadLineException {
        Object v = m.get(key);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new JsonLines.BadLineException("\"" + key + "\" must be true or false");
        }
        return b;
    }
}
