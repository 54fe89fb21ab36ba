package io.ringstore.jsonlines;

import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.AppendResponse;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.GetStreamLimitsResponse;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.protocol.v1.StreamLimits;
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
 * The JSON lines of ringstore: one definition for the CLI (append input, read, subscribe, status
 * and limits output) and the JSON-lines socket (its requests carry the same append fields, its
 * answers are these lines). README "JSON lines" documents them once.
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
 * {@code "id"} (UUID or 32 hex digits: makes a retry idempotent; absent: the server generates
 * one) and {@code "expected_version"} ({@code "any"}, {@code "no_stream"}, {@code "stream_exists"}
 * or a number). A JSON data value is stored as its compact text, so it reads back as the same
 * value; other keys (such as those of an event line) are ignored, so read output can be fed back
 * to append.
 *
 * <p>Acknowledgement line: {@code {"stream","version","position","first_version","first_position",
 * "durability","replayed","ack_mode"}} (and {@code "solo":true} when a replica-mode store
 * acknowledged alone, {@code "epoch"} with replication); error line: {@code {"error":CODE,"message"}} plus
 * {@code "current_version"} (WRONG_EXPECTED_VERSION), {@code "detail"} (INVALID_REQUEST),
 * {@code "resume_after_position"} (a subscription's end), {@code "primary_board"},
 * {@code "primary_address"}, {@code "primary_epoch"} (NOT_PRIMARY, when known) where they apply.
 */
public final class JsonLines {
    private JsonLines() {}

    /** A line append cannot use. */
    public static final class BadLineException extends Exception {
        public BadLineException(String message) {
            super(message);
        }
    }

    /** One append parsed from a line. */
    public record Append(String stream, ExpectedVersion expected, EventData event) {}

    public static String eventLine(Event e, boolean base64) {
        return Json.write(eventObject(e, base64));
    }

    /** An event line as a JSON object, for lines that hold events (read pages). */
    public static Map<String, Object> eventObject(Event e, boolean base64) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", e.getStream());
        m.put("version", e.getVersion());
        m.put("position", e.getPosition());
        m.put("type", e.getType());
        m.put("id", uuid(e.getEventId().toByteArray()));
        m.put("time", time(e.getTimestampMicros()));
        bytes(m, "data", e.getData().toByteArray(), base64);
        if (e.getMetadata().isEmpty()) {
            m.put("metadata", null);
        } else {
            bytes(m, "metadata", e.getMetadata().toByteArray(), base64);
        }
        return m;
    }

    public static String ackLine(AppendResult r) {
        return ackLine(r.stream(), r.firstVersion(), r.lastVersion(), r.firstPosition(), r.lastPosition(),
                r.durability().name(), r.replayed(), r.ackMode(), r.solo(), -1);
    }

    public static String ackLine(AppendResponse r) {
        return ackLine(r.getStream(), r.getFirstVersion(), r.getLastVersion(), r.getFirstPosition(), r.getLastPosition(),
                Wire.durability(r.getDurability()).name(), r.getReplayed(), Wire.ackMode(r.getAckMode()), r.getSolo(),
                r.hasEpoch() ? r.getEpoch() : -1);
    }

    private static String ackLine(String stream, long firstVersion, long lastVersion, long firstPosition,
                                  long lastPosition, String durability, boolean replayed,
                                  io.ringstore.replication.AckMode ackMode, boolean solo, long epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", stream);
        m.put("version", lastVersion);
        m.put("position", lastPosition);
        m.put("first_version", firstVersion);
        m.put("first_position", firstPosition);
        m.put("durability", durability.toLowerCase(Locale.ROOT));
        m.put("replayed", replayed);
        m.put("ack_mode", ackMode.configName());
        if (solo) {
            m.put("solo", true);
        }
        if (epoch >= 0) {
            m.put("epoch", epoch); // the replication epoch it was acknowledged in
        }
        return Json.write(m);
    }

    /** An acknowledgement line for a refused append: {@code error} is the typed code. */
    public static String errorLine(String stream, String error, String message, Long currentVersion, Integer line) {
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

    /** The error line of a wire error: the code's name, as the protobuf protocol spells it. */
    public static String errorLine(io.ringstore.protocol.v1.Error e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", e.getCode().name());
        m.put("message", e.getMessage());
        if (e.hasCurrentVersion()) {
            m.put("current_version", e.getCurrentVersion());
        }
        if (e.hasInvalidDetail()) {
            m.put("detail", e.getInvalidDetail().name());
        }
        if (e.hasResumeAfterPosition()) {
            m.put("resume_after_position", e.getResumeAfterPosition());
        }
        if (e.hasPrimaryBoard()) {
            m.put("primary_board", e.getPrimaryBoard());
        }
        if (e.hasPrimaryAddress()) {
            m.put("primary_address", e.getPrimaryAddress());
        }
        if (e.hasPrimaryEpoch()) {
            m.put("primary_epoch", e.getPrimaryEpoch());
        }
        return Json.write(m);
    }

    /** The status line ({@code ringstore status} and the socket's status answer). */
    public static Map<String, Object> statusObject(StatusResponse s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("committed_position", s.getCommittedPosition());
        m.put("oldest_position", s.getOldestPosition());
        m.put("segments", s.getSegments());
        m.put("segment_rolls", s.getSegmentRolls());
        m.put("segment_rolls_recycled", s.getSegmentRollsRecycled());
        m.put("streams", s.getStreams());
        m.put("events_appended", s.getEventsAppended());
        m.put("batches", s.getBatches());
        m.put("forces", s.getForces());
        m.put("force_p50_micros", s.getForceP50Micros());
        m.put("force_p99_micros", s.getForceP99Micros());
        m.put("queue_depth", s.getQueueDepth());
        m.put("storage_full", s.getStorageFull());
        m.put("disk_budget_bytes", s.getDiskBudgetBytes() == 0 ? null : s.getDiskBudgetBytes());
        m.put("disk_used_bytes", s.getDiskBudgetBytes() == 0 ? null : s.getDiskUsedBytes());
        m.put("retention_files_rewritten", s.getRetentionFilesRewritten());
        m.put("retention_bytes_freed", s.getRetentionBytesFreed());
        m.put("last_error", s.getLastError().isEmpty() ? null : s.getLastError());
        m.put("durability", s.getDurability().name().replace("DURABILITY_", "").toLowerCase(Locale.ROOT));
        m.put("ack_mode", Wire.ackMode(s.getAckMode()).configName());
        m.put("replication", s.getAckMode() == io.ringstore.protocol.v1.AckMode.ACK_MODE_LOCAL
                || s.getAckMode() == io.ringstore.protocol.v1.AckMode.ACK_MODE_UNSPECIFIED ? null
                : s.getSolo() ? "solo" : "paired");
        m.put("acks_waiting", s.getAcksWaiting());
        m.put("ack_oldest_wait_ms", s.getAckOldestWaitMillis());
        m.put("ack_lag_reason", s.getAckLagReason().isEmpty() ? null : s.getAckLagReason());
        m.put("replica_unavailable", s.getReplicaUnavailable());
        m.put("replica_ack_timeouts", s.getReplicaAckTimeouts());
        m.put("splitter", s.getSplitterState());
        m.put("splitter_lag_events", s.getSplitterLagEvents());
        m.put("splitter_lag_bytes", s.getSplitterLagBytes());
        m.put("splitter_lag_seconds", Math.round(s.getSplitterLagSeconds() * 10) / 10.0);
        m.put("splitter_lost_versions", s.getSplitterLostVersions());
        Map<String, Object> leds = new LinkedHashMap<>();
        leds.put("enabled", s.getLedsEnabled());
        leds.put("write", s.getLedWrite().isEmpty() ? null : s.getLedWrite());
        leds.put("lag", s.getLedLag().isEmpty() ? null : s.getLedLag());
        leds.put("fault", s.getLedFault().isEmpty() ? null : s.getLedFault());
        if (!s.getLedReplica().isEmpty()) {
            leds.put("replica", s.getLedReplica());
        }
        m.put("leds", leds);
        if (!s.getGroupBoard().isEmpty()) {
            m.put("group", groupObject(s));
        }
        if (s.hasFailover()) {
            var f = s.getFailover();
            Map<String, Object> fo = new LinkedHashMap<>();
            fo.put("role", f.getRole());
            fo.put("epoch", f.getEpoch());
            fo.put("lease_valid", f.getLeaseValid());
            fo.put("lease_remaining_ms", f.getLeaseRemainingMillis());
            fo.put("ack_waits_for", f.getAckWaitsForList());
            fo.put("promotable", f.getPromotable());
            fo.put("not_promotable_because", f.getNotPromotableBecause().isEmpty() ? null : f.getNotPromotableBecause());
            fo.put("last_decision", f.getLastDecision());
            fo.put("last_decision_age_ms", f.getLastDecisionAgeMillis());
            fo.put("no_quorum_failures", f.getNoQuorumFailures());
            m.put("failover", fo);
        }
        m.put("connections", s.getConnections());
        m.put("subscriptions", s.getSubscriptions());
        m.put("access", s.getAccess().name().replace("ACCESS_", "").toLowerCase(Locale.ROOT).replace('_', '-'));
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("max_request_bytes", s.getMaxRequestBytes());
        limits.put("max_event_bytes", s.getMaxEventBytes());
        limits.put("max_response_bytes", s.getMaxResponseBytes());
        limits.put("max_in_flight", s.getMaxInFlight());
        limits.put("max_subscriptions", s.getMaxSubscriptions());
        limits.put("max_read_count", s.getMaxReadCount());
        limits.put("default_read_count", s.getDefaultReadCount());
        limits.put("read_page_bytes", s.getReadPageBytes());
        limits.put("idempotency_window_events", s.getIdempotencyWindowEvents());
        m.put("limits", limits);
        if (!s.getMqttState().isEmpty()) {
            Map<String, Object> mqtt = new LinkedHashMap<>();
            mqtt.put("state", s.getMqttState());
            mqtt.put("connected", s.getMqttState().equals("connected"));
            mqtt.put("broker", s.getMqttBroker());
            mqtt.put("messages_stored", s.getMqttMessagesStored());
            mqtt.put("messages_per_second", Math.round(s.getMqttMessagesPerSecond() * 10) / 10.0);
            mqtt.put("failures", s.getMqttFailures());
            mqtt.put("replayed", s.getMqttReplayed());
            mqtt.put("last_error", s.getMqttLastError().isEmpty() ? null : s.getMqttLastError());
            m.put("mqtt", mqtt);
        }
        if (!s.getForwardState().isEmpty()) {
            m.put("forward", forwardObject(s));
        }
        return m;
    }

    /** NATS JetStream forwarding (StatusResponse 190-199), as {@code status} shows it. */
    static Map<String, Object> forwardObject(StatusResponse s) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("state", s.getForwardState());
        f.put("url", s.getForwardUrl());
        f.put("position", s.getForwardPosition());
        f.put("forwarded_events", s.getForwardEvents());
        f.put("lag_events", s.getForwardLagEvents());
        f.put("lag_bytes", s.getForwardLagBytes());
        f.put("lag_seconds", Math.round(s.getForwardLagSeconds() * 10) / 10.0);
        f.put("last_error", s.getForwardLastError().isEmpty() ? null : s.getForwardLastError());
        f.put("skipped_bytes", s.getForwardSkippedBytes());
        f.put("skipped", s.getForwardSkippedRange().isEmpty() ? null : s.getForwardSkippedRange());
        return f;
    }

    /** The voter group in a status line (StatusResponse 160-169). */
    static Map<String, Object> groupObject(StatusResponse s) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("board", s.getGroupBoard());
        // primary, standby, primary-fenced or witness (a voter that holds no events)
        g.put("role", s.getReplicationRole().isEmpty() ? null : s.getReplicationRole());
        g.put("leader", s.getGroupLeader().isEmpty() ? null : s.getGroupLeader());
        g.put("voters_reachable", s.getVotersReachable());
        g.put("voters_total", s.getVotersTotal());
        g.put("voters", s.getVotersList());
        g.put("epoch", s.getGroupEpoch());
        g.put("primary", s.getGroupPrimary().isEmpty() ? null : s.getGroupPrimary());
        g.put("primary_address", s.getGroupPrimaryAddress().isEmpty() ? null : s.getGroupPrimaryAddress());
        g.put("in_sync", s.getInSyncList());
        g.put("index", s.getGroupIndex());
        return g;
    }

    /** A stream's limits line ({@code ringstore limits STREAM} and the socket's get_limits answer). */
    public static Map<String, Object> limitsObject(String stream, GetStreamLimitsResponse r) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (stream != null) {
            m.put("stream", stream);
        }
        m.put("own", r.hasOwn() ? limits(r.getOwn()) : null);
        m.put("effective", r.hasEffective() ? limits(r.getEffective()) : null);
        m.put("deleted", r.getDeleted());
        return m;
    }

    private static Map<String, Object> limits(StreamLimits l) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (l.hasMaxCount()) {
            m.put("max_count", l.getMaxCount());
        }
        if (l.hasMaxAgeSeconds()) {
            m.put("max_age_seconds", l.getMaxAgeSeconds());
        }
        if (l.hasTruncateBefore()) {
            m.put("truncate_before", l.getTruncateBefore());
        }
        return m;
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

    public static String uuid(byte[] id) {
        if (id.length != 16) {
            return HexFormat.of().formatHex(id);
        }
        String h = HexFormat.of().formatHex(id);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20)
                + "-" + h.substring(20);
    }

    public static String time(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L).toString();
    }

    /** Parses an append line. */
    public static Append parseAppend(String line) throws BadLineException {
        return append(object(line));
    }

    /** Parses a line that must be a JSON object. */
    public static Map<?, ?> object(String line) throws BadLineException {
        Object v;
        try {
            v = Json.parse(line);
        } catch (Json.ParseException e) {
            throw new BadLineException("not JSON: " + e.getMessage());
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new BadLineException("expected a JSON object");
        }
        return m;
    }

    /** The append an append line's object asks for. */
    public static Append append(Map<?, ?> m) throws BadLineException {
        String stream = string(m, "stream", true);
        ExpectedVersion expected = m.containsKey("expected_version") ? expected(m.get("expected_version")) : ExpectedVersion.ANY;
        return new Append(stream, expected, event(m));
    }

    /** The event of an append line's object (its type, data, metadata and id). */
    public static EventData event(Map<?, ?> m) throws BadLineException {
        String type = string(m, "type", true);
        byte[] data = payload(m, "data");
        byte[] metadata = m.get("metadata") == null && m.get("metadata_base64") == null ? new byte[0] : payload(m, "metadata");
        byte[] id = m.get("id") == null ? null : eventId(string(m, "id", true));
        return new EventData(id, type, data, metadata);
    }

    public static String string(Map<?, ?> m, String key, boolean required) throws BadLineException {
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

    public static byte[] eventId(String s) throws BadLineException {
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

    public static ExpectedVersion expected(Object v) throws BadLineException {
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

    public static ExpectedVersion expected(String s) throws BadLineException {
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
