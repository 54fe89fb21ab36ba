package io.ringstore.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.config.Settings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mqtt_topics rules, the message-to-event mapping, and the mqtt_* settings (no broker needed). */
class TopicMappingTest {
    @TempDir
    Path dir;

    private static MessageMapper mapper(String rules) {
        return new MessageMapper(TopicRule.parseAll(rules), "event-id");
    }

    @Test
    void wildcardsFillTheStreamAndTypeFirstMatchingRuleWins() throws Exception {
        MessageMapper m = mapper("sensors/+/reading -> sensor-{1} type reading; zigbee2mqtt/+/# -> z2m-{1} type {2};"
                + " sensors/# -> other type {topic}; home/+/+ -> home-{2}");
        assertEquals("sensor-kitchen", m.map("sensors/kitchen/reading", new byte[0], null, List.of(), false).stream());
        MessageMapper.Mapped z = m.map("zigbee2mqtt/lamp/state/x", "{}".getBytes(), null, List.of(), false);
        assertEquals("z2m-lamp", z.stream());
        assertEquals("state/x", z.event().type(), "'#' captures the rest, slashes included");
        MessageMapper.Mapped other = m.map("sensors/kitchen/battery", new byte[] {1}, null, List.of(), false);
        assertEquals("other", other.stream());
        assertEquals("sensors/kitchen/battery", other.event().type());
        MessageMapper.Mapped home = m.map("home/hall/door", new byte[] {1}, null, List.of(), false);
        assertEquals("home-door", home.stream());
        assertEquals("door", home.event().type(), "no type: the topic's last level");
        MessageMapper.Unstorable none = assertThrows(MessageMapper.Unstorable.class,
                () -> m.map("garden/pump", new byte[0], null, List.of(), false));
        assertTrue(none.getMessage().contains("no mqtt_topics rule matches"), none.getMessage());
        // A '+' or '#' at the first level does not match a topic starting with '$' (MQTT's rule).
        assertNull(new TopicRule("+/x", "s", null).match("$SYS/x"));
        assertNull(new TopicRule("a/+", "s", null).match("a/b/c"));
        assertEquals(List.of(""), new TopicRule("a/#", "s", null).match("a"));
    }

    @Test
    void badRulesAreRefusedWithTheReason() {
        for (String[] bad : new String[][] {
                {"sensors/+/reading", "expected 'FILTER -> STREAM"},
                {"sensors/+/reading -> s-{2}", "the filter has 1 wildcard"},
                {"sensors/#/x -> s", "'#' must be the last level"},
                {"sensors/a+ -> s", "whole level"},
                {"a/+ -> s-{name}", "neither {topic} nor a wildcard number"},
                {"a/+ -> s type", "expected 'FILTER -> STREAM"},
                {"$share/g/a -> s", "shared subscriptions"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TopicRule.parseAll(bad[0]));
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
        }
    }

    @Test
    void payloadStaysAsItIsAndTheContentTypeIsRecordedInMetadata() throws Exception {
        MessageMapper m = mapper("t/+ -> s-{1}");
        byte[] json = "{\"t\": 21.5}".getBytes(StandardCharsets.UTF_8);
        MessageMapper.Mapped a = m.map("t/a", json, null, List.of(), false);
        assertEquals(new String(json, StandardCharsets.UTF_8), new String(a.event().data(), StandardCharsets.UTF_8));
        assertEquals("{\"mqtt_topic\":\"t/a\",\"content_type\":\"application/json\"}",
                new String(a.event().metadata(), StandardCharsets.UTF_8));
        byte[] bytes = {(byte) 0xff, 0, 1, 2};
        MessageMapper.Mapped b = m.map("t/b", bytes, null, List.of(), true);
        assertEquals(List.of((byte) 0xff, (byte) 0, (byte) 1, (byte) 2), List.of(b.event().data()[0], b.event().data()[1],
                b.event().data()[2], b.event().data()[3]));
        assertEquals("{\"mqtt_topic\":\"t/b\",\"content_type\":\"application/octet-stream\",\"mqtt_retained\":true}",
                new String(b.event().metadata(), StandardCharsets.UTF_8));
        // Text that is not JSON is bytes; the publisher's MQTT 5 content type wins.
        assertEquals(MessageMapper.BYTES, content(m.map("t/c", "21.5 C".getBytes(), null, List.of(), false)));
        assertEquals("text/plain", content(m.map("t/c", "21.5 C".getBytes(), "text/plain", List.of(), false)));
        assertEquals(MessageMapper.JSON, content(m.map("t/c", "21.5".getBytes(), null, List.of(), false)));
    }

    private static String content(MessageMapper.Mapped m) throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) io.ringstore.jsonlines.Json.parse(
                new String(m.event().metadata(), StandardCharsets.UTF_8));
        return (String) meta.get("content_type");
    }

    @Test
    void theEventIdPropertyIsAUuid() throws Exception {
        MessageMapper m = mapper("t/+ -> s-{1}");
        java.util.UUID id = java.util.UUID.randomUUID();
        MessageMapper.Mapped a = m.map("t/a", new byte[0], null, List.of(Map.entry("other", "x"),
                Map.entry("event-id", id.toString())), false);
        assertEquals(id.getMostSignificantBits(), java.nio.ByteBuffer.wrap(a.event().eventId()).getLong());
        assertNull(m.map("t/a", new byte[0], null, List.of(), false).event().eventId(), "none: the store makes one");
        MessageMapper.Unstorable bad = assertThrows(MessageMapper.Unstorable.class,
                () -> m.map("t/a", new byte[0], null, List.of(Map.entry("event-id", "42")), false));
        assertTrue(bad.getMessage().contains("event-id is not a UUID"), bad.getMessage());
    }

    private Settings settings(String... lines) throws Exception {
        Path conf = dir.resolve("ringstore.conf");
        Files.writeString(conf, String.join("\n", lines) + "\n");
        return Settings.load(conf, true, List.of(), MqttConfig.KEYS, Set.of());
    }

    @Test
    void offUntilTopicsAreConfiguredAndEveryKeyIsChecked() throws Exception {
        assertTrue(!MqttConfig.from(settings("# nothing"), "b1").enabled());
        assertTrue(!MqttConfig.from(settings("mqtt_broker = tcp://x:1883"), "b1").enabled(), "no rules: off");
        MqttConfig c = MqttConfig.from(settings("mqtt_topics = a/+ -> a-{1}"), "b1");
        assertTrue(c.enabled());
        assertEquals("tcp://127.0.0.1:1883", c.broker());
        assertEquals("ringstore-b1", c.clientId());
        assertNull(c.password());
        Path pw = dir.resolve("pw");
        Files.writeString(pw, "s3cret\n");
        MqttConfig withFile = MqttConfig.from(settings("mqtt_topics = a/+ -> a-{1}", "mqtt_user = rs",
                "mqtt_password_file = " + pw), "b1");
        assertEquals("s3cret", new String(withFile.password(), StandardCharsets.UTF_8));
        for (String[] bad : new String[][] {
                {"mqtt_topics = a/+ -> a-{2}", "wildcard"},
                {"mqtt_topics = a/+ -> a\nmqtt_broker = localhost", "tcp://HOST:PORT"},
                {"mqtt_topics = a/+ -> a\nmqtt_password = x", "mqtt_user"},
                {"mqtt_topics = a/+ -> a\nmqtt_user = u\nmqtt_password_file = " + dir.resolve("missing"), "cannot be read"},
                {"mqtt_topics = a/+ -> a\nmqtt_receive_maximum = 0", "between 1 and 65535"}}) {
            Settings.BadSetting e = assertThrows(Settings.BadSetting.class, () -> MqttConfig.from(settings(bad[0]), "b1"));
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
        }
    }
}
