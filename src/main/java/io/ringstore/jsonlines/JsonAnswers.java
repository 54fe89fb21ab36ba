package io.ringstore.jsonlines;

import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.ReadAllResponse;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.SubscriptionUpdate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer lines of the JSON-lines socket: each protobuf response as one line (no newline
 * here), built from {@link JsonLines}' event, acknowledgement, error, status and limits lines.
 * The request id is left out: on that socket answers come in the order of the requests.
 */
public final class JsonAnswers {
    private JsonAnswers() {}

    public static String line(Response r) {
        return switch (r.getResultCase()) {
            case ERROR -> JsonLines.errorLine(r.getError());
            case APPEND -> JsonLines.ackLine(r.getAppend());
            case READ_STREAM -> {
                ReadStreamResponse p = r.getReadStream();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("events", events(p.getEventsList()));
                m.put("last_version", p.getLastVersion());
                m.put("next_version", p.getNextVersion());
                m.put("end_of_stream", p.getEndOfStream());
                yield Json.write(m);
            }
            case READ_ALL -> {
                ReadAllResponse p = r.getReadAll();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("events", events(p.getEventsList()));
                m.put("next_position", p.getNextPosition());
                m.put("end", p.getEnd());
                yield Json.write(m);
            }
            case SUBSCRIPTION -> subscription(r.getSubscription());
            case STATUS -> Json.write(JsonLines.statusObject(r.getStatus()));
            case PING -> "{\"pong\":true}";
            case SET_STREAM_LIMITS -> "{\"position\":" + r.getSetStreamLimits().getPosition() + "}";
            case DELETE_STREAM -> "{\"position\":" + r.getDeleteStream().getPosition() + "}";
            case GET_STREAM_LIMITS -> Json.write(JsonLines.limitsObject(null, r.getGetStreamLimits()));
            case UNSUBSCRIBE -> "{\"unsubscribed\":true}";
            case SET_SOLO -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("replication", r.getSetSolo().getSolo() ? "solo" : "paired");
                m.put("ack_mode", io.ringstore.protocol.Wire.ackMode(r.getSetSolo().getAckMode()).configName());
                m.put("changed", r.getSetSolo().getChanged());
                yield Json.write(m);
            }
            case PROMOTE -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("epoch", r.getPromote().getEpoch());
                m.put("start_position", r.getPromote().getStartPosition());
                m.put("message", r.getPromote().getMessage());
                yield Json.write(m);
            }
            // The JSON-lines socket takes no multi-stream append; this is for completeness (i19).
            case MULTI_APPEND -> {
                StringBuilder b = new StringBuilder("{\"results\":[");
                for (var x : r.getMultiAppend().getResultsList()) {
                    b.append(b.charAt(b.length() - 1) == '[' ? "" : ",")
                            .append(x.hasError() ? JsonLines.errorLine(x.getError()) : JsonLines.ackLine(x.getAppend()));
                }
                yield b.append("]}").toString();
            }
            case RESULT_NOT_SET -> "{\"error\":\"STORAGE_ERROR\",\"message\":\"empty answer\"}";
        };
    }

    private static String subscription(SubscriptionUpdate u) {
        return switch (u.getKindCase()) {
            case EVENT -> JsonLines.eventLine(u.getEvent(), false);
            case CONFIRMED -> "{\"subscribed\":{\"committed_position\":" + u.getConfirmed().getCommittedPosition() + "}}";
            case CAUGHT_UP -> "{\"caught_up\":{\"position\":" + u.getCaughtUp().getPosition() + "}}";
            case KIND_NOT_SET -> "{\"error\":\"STORAGE_ERROR\",\"message\":\"empty subscription update\"}";
        };
    }

    private static List<Object> events(List<Event> events) {
        List<Object> l = new ArrayList<>(events.size());
        for (Event e : events) {
            l.add(JsonLines.eventObject(e, false));
        }
        return l;
    }
}
