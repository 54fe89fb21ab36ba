package io.ringstore.mqtt;

import io.ringstore.store.RingStore;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.tinylog.Logger;

/**
 * MQTT in: a client of the broker (default a local Mosquitto) with a persistent session (clean
 * start off, a long session expiry), subscribed with QoS 1 to the configured topic filters;
 * what arrives is stored by {@link IngestLoop} and acknowledged only once durable.
 *
 * <p>Its connect thread ({@code ringstore-mqtt-connect}) connects, subscribes, waits for the
 * connection to end, and tries again after 1 s, doubling to 60 s while the broker cannot be
 * reached or refuses. The journal gets one line per change of state (connected, unreachable,
 * refused and why, lost), not one per attempt. Each attempt uses a new Paho client, so a PUBACK
 * can only ever go out on the connection its message came in on.
 */
public final class MqttIngress implements AutoCloseable {
    static final long BACKOFF_FIRST_MILLIS = 1_000;
    static final long BACKOFF_MAX_MILLIS = 60_000;
    /** A connection that lasted this long resets the backoff (one that drops at once does not). */
    private static final long STABLE_MILLIS = 10_000;
    private static final int CONNECT_TIMEOUT_SECONDS = 10;
    private static final int KEEP_ALIVE_SECONDS = 30;

    static {
        // Paho logs through java.util.logging; the states that matter are journalled here.
        java.util.logging.Logger.getLogger("org.eclipse.paho").setLevel(java.util.logging.Level.OFF);
    }

    private final MqttConfig config;
    private final IngestLoop ingest;
    private final Thread ingestThread;
    private final Thread connectThread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile String state = "connecting";
    private volatile String lastError = "";
    /** The state the journal last reported (a repeat of it is not written again). */
    private String journalled = "";
    private volatile Connection current;

    private MqttIngress(MqttConfig config, Supplier<RingStore> store) {
        this.config = config;
        this.ingest = new IngestLoop(store, new MessageMapper(config.rules(), config.eventIdProperty()),
                e -> lastError = e);
        this.ingestThread = Thread.ofPlatform().name("ringstore-mqtt-ingest").daemon().unstarted(ingest);
        this.connectThread = Thread.ofPlatform().name("ringstore-mqtt-connect").daemon().unstarted(this::connectLoop);
    }

    /** Starts connecting in the background; the store is asked for on every append (it may be reopened). */
    public static MqttIngress start(MqttConfig config, Supplier<RingStore> store) {
        MqttIngress m = new MqttIngress(config, store);
        RingStore s = store.get();
        if (s != null && s.config().writer().durability() == io.ringstore.writer.Durability.NONE) {
            Logger.warn("mqtt: durability=none: messages are acknowledged to the broker before the log is forced; "
                    + "a power cut can lose messages the broker has already dropped");
        }
        Logger.info("mqtt: {} rules: {}", config, config.rules());
        m.ingestThread.start();
        m.connectThread.start();
        return m;
    }

    public MqttStatus status() {
        return new MqttStatus(state, config.broker(), ingest.stored.get(), ingest.rate.rate(System.nanoTime()),
                ingest.failures.get(), ingest.replayed.get(), lastError);
    }

    private void connectLoop() {
        long backoff = BACKOFF_FIRST_MILLIS;
        while (!stopping) {
            Connection c;
            try {
                c = new Connection();
            } catch (MqttException e) {
                // Only a malformed URL or client id gets here; the config check lets neither through.
                problem("refused", "cannot make an MQTT client: " + e);
                return;
            }
            long began = System.nanoTime();
            try {
                boolean sessionPresent = c.connect();
                current = c;
                state = "connected";
                lastError = "";
                journal("connected", "mqtt: connected to {} client_id={} session_present={}{}", config.broker(),
                        config.clientId(), sessionPresent, sessionPresent ? ""
                                : " (no session kept by the broker: a first start, or the broker lost it; messages "
                                + "published while ringstore was away are not there)");
                c.subscribe();
                c.awaitEnd();
                if (stopping) {
                    // close() disconnects, after the last round's PUBACKs have gone out on it.
                    return;
                }
                String why = c.endReason();
                state = "connecting";
                lastError = "connection lost: " + why;
                journal("lost", "mqtt: connection to {} lost: {}; reconnecting", config.broker(), why);
            } catch (MqttException e) {
                classify(e);
            } catch (InterruptedException e) {
                c.close();
                return;
            }
            c.close();
            if (System.nanoTime() - began > STABLE_MILLIS * 1_000_000L) {
                backoff = BACKOFF_FIRST_MILLIS;
            }
            try {
                if (stopped.await(backoff, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            backoff = Math.min(backoff * 2, BACKOFF_MAX_MILLIS);
        }
    }

    /** Unreachable (nothing answers) or refused (the broker answered no), with why. */
    private void classify(MqttException e) {
        int code = e.getReasonCode();
        Throwable cause = e.getCause();
        if (code == 0x86 || code == 0x87 || code == 0x85 || code == 0x8A || code == 0x8C || code == 0x95
                || code == 0x84 || code == 0x8F) {
            String why = switch (code) {
                case 0x86 -> "bad user name or password (check mqtt_user and mqtt_password or mqtt_password_file)";
                // Mosquitto answers a wrong password with this one too.
                case 0x87 -> "not authorized (a wrong mqtt_user or mqtt_password/mqtt_password_file, or the broker "
                        + "does not let user " + (config.user() == null ? "(none)" : config.user()) + " connect)";
                case 0x85 -> "client identifier not valid (mqtt_client_id " + config.clientId() + ")";
                case 0x8A -> "banned";
                case 0x84 -> "unsupported protocol version (the broker does not speak MQTT 5)";
                default -> "reason code " + code;
            };
            problem("refused", "broker " + config.broker() + " refused the connection: " + why);
        } else if (cause instanceof ConnectException || cause instanceof NoRouteToHostException
                || cause instanceof UnknownHostException || cause instanceof java.net.SocketTimeoutException
                || code == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_SERVER_CONNECT_ERROR
                || code == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CLIENT_TIMEOUT
                || code == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CONNECTION_LOST) {
            problem("unreachable", "broker " + config.broker() + " unreachable: "
                    + (cause != null ? cause.getClass().getSimpleName() + ": " + cause.getMessage() : e.getMessage()));
        } else {
            problem("unreachable", "cannot connect to broker " + config.broker() + ": " + e.getMessage()
                    + " (reason " + code + (cause != null ? ", " + cause : "") + ")");
        }
    }

    private void problem(String newState, String text) {
        state = newState;
        lastError = text;
        journal(newState + ":" + text, "mqtt: {}; retrying with backoff (1 s doubling to 60 s), said again only "
                + "when this changes", text);
    }

    /** Writes the line only when {@code key} differs from the last state written. */
    private void journal(String key, String format, Object... args) {
        if (key.equals(journalled)) {
            return;
        }
        journalled = key;
        if (key.equals("connected")) {
            Logger.info(format, args);
        } else {
            Logger.warn(format, args);
        }
    }

    /**
     * Stops taking messages, lets the round being stored finish and acknowledges it, then
     * disconnects: the broker keeps the session, and what was not acknowledged is delivered
     * again on the next start.
     */
    @Override
    public void close() {
        stopping = true;
        ingest.stop();
        try {
            ingestThread.join(TimeUnit.SECONDS.toMillis(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped.countDown();
        Connection c = current;
        if (c != null) {
            c.disconnect();
            c.close();
        }
        connectThread.interrupt();
        try {
            connectThread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A connection made while this stop began: its client threads must not outlive the daemon.
        Connection late = current;
        if (late != null && late != c) {
            late.close();
        }
        Logger.info("mqtt: stopped: stored={} failures={}", ingest.stored.get(), ingest.failures.get());
    }

    /** One connection attempt and, when it succeeds, the connection: one Paho client each. */
    private final class Connection implements MqttCallback, IngestLoop.Link {
        private final MqttAsyncClient client;
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile boolean up;
        private volatile String endReason = "";

        Connection() throws MqttException {
            client = new MqttAsyncClient(config.broker(), config.clientId(), new MemoryPersistence());
            client.setManualAcks(true);
            client.setCallback(this);
        }

        boolean connect() throws MqttException {
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(false);
            o.setSessionExpiryInterval(config.sessionExpirySeconds());
            o.setReceiveMaximum(config.receiveMaximum());
            o.setAutomaticReconnect(false);
            o.setConnectionTimeout(CONNECT_TIMEOUT_SECONDS);
            o.setKeepAliveInterval(KEEP_ALIVE_SECONDS);
            if (config.user() != null) {
                o.setUserName(config.user());
            }
            if (config.password() != null) {
                o.setPassword(config.password());
            }
            IMqttToken t = client.connect(o);
            t.waitForCompletion(TimeUnit.SECONDS.toMillis(CONNECT_TIMEOUT_SECONDS + 5));
            if (!client.isConnected()) {
                throw new MqttException(org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CLIENT_TIMEOUT);
            }
            up = true;
            return t.getSessionPresent();
        }

        /**
         * Subscribes every filter with QoS 1. Retain handling 1: retained messages come with a new
         * subscription only, not again with each reconnect's re-subscription of the same filter.
         */
        void subscribe() throws MqttException {
            List<MqttSubscription> subs = new ArrayList<>();
            for (TopicRule r : config.rules()) {
                MqttSubscription s = new MqttSubscription(r.filter(), 1);
                s.setRetainHandling(1);
                subs.add(s);
            }
            IMqttToken t = client.subscribe(subs.toArray(MqttSubscription[]::new));
            t.waitForCompletion(TimeUnit.SECONDS.toMillis(CONNECT_TIMEOUT_SECONDS));
            int[] codes = t.getReasonCodes();
            for (int i = 0; codes != null && i < codes.length && i < subs.size(); i++) {
                if (codes[i] >= 0x80) {
                    String text = "broker refused the subscription to '" + subs.get(i).getTopic() + "' (reason " + codes[i]
                            + (codes[i] == 0x87 ? ": not authorized" : "") + ")";
                    lastError = text;
                    Logger.error("mqtt: {}", text);
                } else if (codes[i] != 1) {
                    Logger.warn("mqtt: subscription to '{}' granted QoS {} instead of 1", subs.get(i).getTopic(), codes[i]);
                }
            }
        }

        void awaitEnd() throws InterruptedException {
            while (!ended.await(500, TimeUnit.MILLISECONDS)) {
                if (stopping) {
                    return;
                }
            }
        }

        String endReason() {
            return endReason;
        }

        void disconnect() {
            up = false;
            try {
                client.disconnect(2_000).waitForCompletion(3_000);
            } catch (MqttException | RuntimeException e) {
                Logger.debug("mqtt: disconnect: {}", e.toString());
            }
        }

        void close() {
            up = false;
            try {
                if (client.isConnected()) {
                    client.disconnectForcibly(0, 1_000, false);
                }
                client.close(true);
            } catch (MqttException | RuntimeException e) {
                Logger.debug("mqtt: close: {}", e.toString());
            }
        }

        @Override
        public boolean alive() {
            return up;
        }

        @Override
        public void ack(int messageId) {
            try {
                client.messageArrivedComplete(messageId, 1);
            } catch (MqttException | RuntimeException e) {
                // The connection dropped: the broker delivers the message again on the next one.
                Logger.debug("mqtt: PUBACK {} not sent: {}", messageId, e.toString());
            }
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            if (message.getQos() == 0) {
                // Nothing to acknowledge and nothing the broker would redeliver: stored all the same.
                Logger.debug("mqtt: QoS 0 message on {}: stored without delivery guarantee", topic);
            }
            List<Map.Entry<String, String>> props = new ArrayList<>();
            MqttProperties p = message.getProperties();
            String contentType = null;
            if (p != null) {
                for (UserProperty u : p.getUserProperties()) {
                    props.add(Map.entry(u.getKey(), u.getValue()));
                }
                contentType = p.getContentType();
            }
            ingest.offer(new IngestLoop.Inbound(message.getQos() == 0 ? NO_ACK : this, message.getId(), topic,
                    message.getPayload(), contentType, props, message.isRetained()));
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            up = false;
            MqttException e = response.getException();
            endReason = e != null ? (e.getCause() != null ? e.getCause().toString() : e.getMessage())
                    : "broker disconnected (reason " + response.getReturnCode()
                    + (response.getReasonString() != null ? ": " + response.getReasonString() : "") + ")";
            ended.countDown();
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            Logger.warn("mqtt: protocol error: {}", exception.toString());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // Nothing is published.
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            // Journalled by the connect loop.
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // Extended authentication is not used.
        }
    }

    /** QoS 0 messages: nothing to acknowledge. */
    private static final IngestLoop.Link NO_ACK = new IngestLoop.Link() {
        @Override
        public boolean alive() {
            return true;
        }

        @Override
        public void ack(int messageId) {
        }
    };
}
