package io.ringstore.mqtt;

import io.ringstore.config.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The MQTT ingress as configured in ringstore.conf ({@code mqtt_*} keys), checked once at start.
 * Off unless {@code mqtt_topics} names at least one rule.
 *
 * @param broker              the broker's URL (tcp://host:port, or ssl://host:port)
 * @param clientId            the MQTT client id: the broker keeps this client's session under it
 * @param user                the user name, or null
 * @param password            the password, or null (read from mqtt_password_file when that is set)
 * @param rules               topic filter to stream and type, first match wins
 * @param eventIdProperty     the MQTT 5 user property whose value (a UUID) is the idempotent event id
 * @param sessionExpirySeconds how long the broker keeps the session (and queues QoS 1 messages) while
 *                            ringstore is away
 * @param receiveMaximum      how many unacknowledged messages the broker may send at once
 */
public record MqttConfig(String broker, String clientId, String user, byte[] password, List<TopicRule> rules,
                         String eventIdProperty, long sessionExpirySeconds, int receiveMaximum) {

    public static final String DEFAULT_BROKER = "tcp://127.0.0.1:1883";
    public static final String DEFAULT_EVENT_ID_PROPERTY = "event-id";
    /** A week: a board whose daemon is stopped for a weekend still finds its messages queued. */
    public static final long DEFAULT_SESSION_EXPIRY_SECONDS = 7L * 86_400;
    public static final int DEFAULT_RECEIVE_MAXIMUM = 100;

    /** The ringstore.conf keys read here. */
    public static final Set<String> KEYS = Set.of("mqtt_topics", "mqtt_broker", "mqtt_client_id", "mqtt_user",
            "mqtt_password", "mqtt_password_file", "mqtt_event_id_property", "mqtt_session_expiry_seconds",
            "mqtt_receive_maximum");

    public MqttConfig {
        rules = List.copyOf(rules);
    }

    public boolean enabled() {
        return !rules.isEmpty();
    }

    /** Off: no rules. */
    public static final MqttConfig OFF = new MqttConfig(DEFAULT_BROKER, "", null, null, List.of(),
            DEFAULT_EVENT_ID_PROPERTY, DEFAULT_SESSION_EXPIRY_SECONDS, DEFAULT_RECEIVE_MAXIMUM);

    /** Reads the {@code mqtt_*} keys; {@code board} names the default client id (ringstore-BOARD). */
    public static MqttConfig from(Settings s, String board) throws Settings.BadSetting {
        String topics = s.string("mqtt_topics", "").strip();
        if (topics.isEmpty()) {
            // The other keys alone (the shipped file's defaults, uncommented) leave it off.
            return OFF;
        }
        List<TopicRule> rules;
        try {
            rules = TopicRule.parseAll(topics);
        } catch (IllegalArgumentException e) {
            throw s.bad("mqtt_topics", e.getMessage());
        }
        String broker = s.string("mqtt_broker", DEFAULT_BROKER).strip();
        if (!(broker.startsWith("tcp://") || broker.startsWith("ssl://")) || broker.indexOf(':', 6) < 0) {
            throw s.bad("mqtt_broker", "must be tcp://HOST:PORT or ssl://HOST:PORT");
        }
        String clientId = s.string("mqtt_client_id", "").strip();
        if (clientId.isEmpty()) {
            clientId = "ringstore-" + board;
        }
        if (clientId.getBytes(StandardCharsets.UTF_8).length > 65_535) {
            throw s.bad("mqtt_client_id", "is too long");
        }
        String user = s.string("mqtt_user", "").strip();
        byte[] password = null;
        String inline = s.string("mqtt_password", "");
        Path file = s.path("mqtt_password_file", null);
        if (!inline.isEmpty() && file != null) {
            throw s.bad("mqtt_password", "and mqtt_password_file are both set: keep one");
        }
        if (!inline.isEmpty()) {
            password = inline.getBytes(StandardCharsets.UTF_8);
        } else if (file != null) {
            try {
                // The first line, without its line break: the file an operator writes with echo.
                String text = Files.readString(file, StandardCharsets.UTF_8);
                int nl = text.indexOf('\n');
                password = (nl >= 0 ? text.substring(0, nl) : text).strip().getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw s.bad("mqtt_password_file", "cannot be read: " + e);
            }
        }
        if (password != null && user.isEmpty()) {
            throw s.bad("mqtt_user", "must be set when a password is");
        }
        String property = s.string("mqtt_event_id_property", DEFAULT_EVENT_ID_PROPERTY).strip();
        if (property.isEmpty()) {
            throw s.bad("mqtt_event_id_property", "must not be empty");
        }
        long expiry = s.number("mqtt_session_expiry_seconds", DEFAULT_SESSION_EXPIRY_SECONDS, 1, 4_294_967_295L);
        int receiveMaximum = (int) s.number("mqtt_receive_maximum", DEFAULT_RECEIVE_MAXIMUM, 1, 65_535);
        return new MqttConfig(broker, clientId, user.isEmpty() ? null : user, password, rules, property, expiry,
                receiveMaximum);
    }

    /** This board's name for the default client id: the host name. */
    public static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: ask Java
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "board";
        }
    }

    @Override
    public String toString() {
        return "broker=" + broker + " client_id=" + clientId + " user=" + (user == null ? "none" : user) + " topics="
                + rules.size();
    }
}
