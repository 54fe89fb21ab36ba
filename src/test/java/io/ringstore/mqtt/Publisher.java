package io.ringstore.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * A device publishing with QoS 1 (Paho, MQTT 5): each publish is repeated until the broker
 * acknowledged it, across broker restarts (so a message can reach the broker twice; with an
 * event id ringstore stores it once).
 */
final class Publisher implements AutoCloseable {
    private final MqttAsyncClient client;
    private final MqttConnectionOptions options = new MqttConnectionOptions();

    Publisher(String url, String clientId) throws MqttException {
        client = new MqttAsyncClient(url, clientId, new MemoryPersistence());
        options.setCleanStart(true);
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 1);
        options.setConnectionTimeout(5);
        client.connect(options).waitForCompletion(10_000);
    }

    /** The event id a test gives message {@code seq} of {@code topic}. */
    static UUID eventId(String topic, int seq) {
        return new UUID(topic.hashCode(), seq);
    }

    /** A JSON reading naming its topic and sequence number. */
    static byte[] json(String topic, int seq) {
        return ("{\"topic\":\"" + topic + "\",\"seq\":" + seq + "}").getBytes(StandardCharsets.UTF_8);
    }

    /** Publishes until the broker acknowledges it (PUBACK); {@code eventId} null: no event-id property. */
    void publish(String topic, byte[] payload, UUID eventId) throws InterruptedException {
        MqttMessage m = new MqttMessage(payload, 1, false, new MqttProperties());
        if (eventId != null) {
            m.getProperties().setUserProperties(List.of(new UserProperty("event-id", eventId.toString())));
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                IMqttToken t = client.publish(topic, m);
                t.waitForCompletion(5_000);
                if (t.isComplete() && t.getException() == null) {
                    return;
                }
            } catch (MqttException e) {
                // Not connected (the broker restarts): wait for the reconnect, send again.
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("could not publish to " + topic + " for 60 s");
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        try {
            client.disconnect().waitForCompletion(2_000);
        } catch (MqttException e) {
            // gone already
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // closed
        }
    }
}
