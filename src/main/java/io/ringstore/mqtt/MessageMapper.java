package io.ringstore.mqtt;

import io.ringstore.jsonlines.Json;
import io.ringstore.writer.EventData;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns an MQTT message into the event it is stored as.
 *
 * <ul>
 *   <li>data: the payload's bytes, unchanged (JSON stays JSON text, anything else stays bytes);
 *   <li>metadata: a JSON object {@code {"mqtt_topic": TOPIC, "content_type": TYPE}} (plus
 *       {@code "mqtt_retained": true} for a retained message), where TYPE is the message's MQTT 5
 *       content type when the publisher set one, else {@code application/json} when the payload is
 *       a JSON text, else {@code application/octet-stream};
 *   <li>event id: the UUID in the configured user property (default {@code event-id}), which makes
 *       a redelivery of the same message an idempotent retry; none: the store generates one.
 * </ul>
 */
final class MessageMapper {
    static final String JSON = "application/json";
    static final String BYTES = "application/octet-stream";

    /** A message that cannot become an event; the message says why (for the journal). */
    static final class Unstorable extends Exception {
        Unstorable(String message) {
            super(message);
        }
    }

    /** An event and the stream it goes to. */
    record Mapped(String stream, EventData event) {}

    private final List<TopicRule> rules;
    private final String eventIdProperty;

    MessageMapper(List<TopicRule> rules, String eventIdProperty) {
        this.rules = List.copyOf(rules);
        this.eventIdProperty = eventIdProperty;
    }

    /**
     * @param contentType    the message's MQTT 5 content type, or null
     * @param userProperties the message's MQTT 5 user properties as key, value pairs
     */
    Mapped map(String topic, byte[] payload, String contentType, List<Map.Entry<String, String>> userProperties,
               boolean retained) throws Unstorable {
        TopicRule.Target target = null;
        for (TopicRule r : rules) {
            List<String> captured = r.match(topic);
            if (captured != null) {
                target = r.target(topic, captured);
                break;
            }
        }
        if (target == null) {
            throw new Unstorable("no mqtt_topics rule matches the topic");
        }
        if (target.type().isEmpty()) {
            throw new Unstorable("the rule gives an empty event type for this topic");
        }
        byte[] eventId = null;
        for (Map.Entry<String, String> p : userProperties) {
            if (p.getKey().equals(eventIdProperty)) {
                eventId = parseId(p.getValue());
            }
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("mqtt_topic", topic);
        meta.put("content_type", contentType != null && !contentType.isEmpty() ? contentType
                : isJson(payload) ? JSON : BYTES);
        if (retained) {
            meta.put("mqtt_retained", true);
        }
        try {
            return new Mapped(target.stream(), new EventData(eventId, target.type(), payload,
                    Json.write(meta).getBytes(StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            throw new Unstorable(e.getMessage());
        }
    }

    private byte[] parseId(String value) throws Unstorable {
        UUID u;
        try {
            u = UUID.fromString(value.strip());
        } catch (IllegalArgumentException e) {
            throw new Unstorable("user property " + eventIdProperty + " is not a UUID: '" + shorten(value) + "'");
        }
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    /** Whether the payload is one JSON text in UTF-8 (what JSON stays JSON means for readers). */
    static boolean isJson(byte[] payload) {
        if (payload.length == 0) {
            return false;
        }
        byte first = payload[0];
        // Cheap refusal of most binary payloads before decoding.
        if (first != '{' && first != '[' && first != '"' && first != '-' && first != 't' && first != 'f'
                && first != 'n' && (first < '0' || first > '9') && first != ' ' && first != '\t' && first != '\n'
                && first != '\r') {
            return false;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return false;
        }
        try {
            Json.parse(text);
            return true;
        } catch (Json.ParseException | RuntimeException e) {
            return false;
        }
    }

    static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
