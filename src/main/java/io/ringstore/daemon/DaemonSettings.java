package io.ringstore.daemon;

import io.ringstore.config.Settings;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.ReplicationConfig;
import io.ringstore.replication.ReplicationOptions;
import io.ringstore.replication.Role;
import io.ringstore.replication.tls.TlsSockets;
import io.ringstore.replication.tls.TlsMaterial;
import io.ringstore.retention.RetentionOptions;
import io.ringstore.server.AccessPolicy;
import io.ringstore.server.ServerConfig;
import io.ringstore.split.SplitterOptions;
import io.ringstore.status.Led;
import io.ringstore.status.LedPin;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.Durability;
import io.ringstore.writer.WriterOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything {@code serve} is configured with, from the config file and flags, checked once.
 * The keys are documented in {@code ringstore.conf} (shipped as {@code /etc/ringstore/ringstore.conf}).
 *
 * @param store       the store
 * @param server      the socket server
 * @param leds        LED wiring by light
 * @param ledsEnabled whether to drive LEDs at all
 * @param statusIntervalSeconds how often the status line is logged
 * @param configFile  the config file read, or null
 * @param replication the peers and keys to replicate with ({@link ReplicationConfig#OFF} when none are configured);
 *                    its key material was read and checked at parse time
 * @param shipping    this board's role in log shipping (used only when {@code replication} is enabled)
 * @param mqtt        the MQTT ingress ({@link io.ringstore.mqtt.MqttConfig#OFF} unless mqtt_topics is set)
 * @param forward     NATS JetStream forwarding, or null when {@code forward_url} is not set
 */
public record DaemonSettings(StoreConfig store, ServerConfig server, Map<Led, LedPin> leds, boolean ledsEnabled,
                             long statusIntervalSeconds, Path configFile, ReplicationConfig replication,
                             Shipping shipping, io.ringstore.mqtt.MqttConfig mqtt,
                             io.ringstore.forward.ForwardOptions forward, GroupConfig group) {

    /** {@code role = witness}: this board holds no events and only votes in the group. */
    public boolean witness() {
        return group != null && group.witness();
    }

    /**
     * The group's connections: mutual TLS with this board's replication key, pinning every other
     * voter's certificate (a witness among them, which ships no log and so is no replication peer).
     */
    public TlsSockets groupSockets() throws TlsMaterial.BadMaterial {
        return new TlsSockets(TlsMaterial.load(group.keyStore(), group.peerCerts(), group.otherVoters().keySet()),
                TlsSockets.DEFAULT_HANDSHAKE_TIMEOUT_MILLIS);
    }

    /**
     * role, replication_primary, standby_hold_seconds, ack_mode.
     *
     * @param primary the peer a standby follows (a name in replication_peers); null for a primary
     */
    public record Shipping(Role role, String primary, long standbyHoldMillis, AckMode ackMode) {
        static final Shipping NONE = new Shipping(Role.PRIMARY, null, ReplicationOptions.DEFAULT_STANDBY_HOLD_MILLIS,
                AckMode.LOCAL);
    }

    /** What log shipping is opened with, its sockets TLS from the configured keys; null when replication is off. */
    public ReplicationOptions replicationOptions() throws TlsMaterial.BadMaterial {
        if (!replication.enabled()) {
            return null;
        }
        TlsSockets sockets = TlsSockets.load(replication);
        List<ReplicationOptions.Peer> peers = ReplicationOptions.peersOf(replication);
        ReplicationOptions.Peer primary = peers.stream().filter(p -> p.board().equals(shipping.primary())).findFirst()
                .orElse(null);
        return new ReplicationOptions(shipping.role(), sockets.name(), replication.listen(), primary, peers,
                shipping.standbyHoldMillis(), shipping.ackMode(), sockets);
    }

    public static final Path DEFAULT_CONFIG = Path.of("/etc/ringstore/ringstore.conf");
    /** BCM 17, 27, 22: header pins 11, 13, 15, next to ground on pin 9/14; not used by I2C, SPI, UART, I2S or PWM HATs. */
    public static final LedPin DEFAULT_WRITE = new LedPin(17, false);
    public static final LedPin DEFAULT_LAG = new LedPin(27, false);
    public static final LedPin DEFAULT_FAULT = new LedPin(22, false);

    static final Set<String> KEYS = keys(Set.of(
            "config", "data", "segment_size", "durability", "force_interval_ms", "repair", "queue_capacity",
            "group_commit_wait_us",
            "splitter", "splitter_window_bytes", "splitter_window_ms", "splitter_max_lag_bytes",
            "splitter_max_lag_seconds", "splitter_max_lag_events", "splitter_nice", "retain_log_minutes", "retain_log_bytes",
            "socket", "json_socket", "socket_group", "read_write_users", "read_write_groups", "read_only_users", "read_only_groups",
            "max_connections", "max_in_flight", "max_frame_bytes", "subscriber_buffer_bytes", "slow_subscriber_ms",
            "leds", "led_write", "led_lag", "led_fault", "led_replica", "status_interval_seconds",
            "stream_limits", "disk_budget", "disk_low_water", "retention_interval_seconds",
            "replication_listen", "replication_peers", "replication_key_store", "replication_peer_certs",
            "ack_mode", "replica_ack_timeout_ms", "role", "replication_primary", "standby_hold_seconds",
            // NATS JetStream forwarding (io.ringstore.forward.ForwardOptions)
            "forward_url", "forward_user", "forward_password", "forward_credentials", "forward_stream",
            "forward_subject", "forward_board", "forward_batch", "forward_max_in_flight",
            "forward_max_in_flight_bytes", "forward_ack_timeout_ms", "forward_connect_timeout_ms",
            "group_voters", "group_listen", "group_election_timeout_ms", "failover_after_ms", "primary_lease_ms",
            "clock_drift_bound", "insync_drop_after_ms", "insync_rejoin_after_ms"),
            io.ringstore.mqtt.MqttConfig.KEYS);

    @SafeVarargs
    private static Set<String> keys(Set<String>... parts) {
        Set<String> all = new java.util.HashSet<>();
        for (Set<String> p : parts) {
            all.addAll(p);
        }
        return Set.copyOf(all);
    }
    static final Set<String> FLAGS = Set.of("repair");

    /** Reads the config file ({@code --config}, else the default when present) and the flags. */
    public static DaemonSettings parse(String[] args) throws Settings.BadSetting {
        List<String> flags = new ArrayList<>(List.of(args));
        Path configFile = null;
        boolean required = false;
        int at = flags.indexOf("--config");
        if (at >= 0) {
            if (at + 1 >= flags.size()) {
                throw new Settings.BadSetting("missing value for --config");
            }
            configFile = Path.of(flags.get(at + 1));
            flags.remove(at + 1);
            flags.remove(at);
            required = true;
        } else if (Files.exists(DEFAULT_CONFIG)) {
            configFile = DEFAULT_CONFIG;
        }
        Settings s = Settings.load(configFile, required, flags, KEYS, FLAGS);
        return from(s, configFile);
    }

    static DaemonSettings from(Settings s, Path configFile) throws Settings.BadSetting {
        StoreConfig store = StoreConfig.defaults(s.path("data", Path.of("/var/lib/ringstore")));
        try {
            long segment = s.bytes("segment_size", StoreConfig.DEFAULT_SEGMENT_SIZE, StoreConfig.MIN_SEGMENT_SIZE,
                    StoreConfig.MAX_SEGMENT_SIZE);
            if (segment % 4096 != 0) {
                throw s.bad("segment_size", "must be a multiple of 4096");
            }
            store = store.withSegmentSize(segment).withRepair(s.bool("repair", false));
            var writer = store.writer().withDurability(s.choice("durability", Durability.SYNC, Durability.class))
                    .withForceIntervalMillis(s.number("force_interval_ms", 100, 1, 60_000))
                    .withGatherMicros(s.number("group_commit_wait_us", WriterOptions.DEFAULT_GATHER_MICROS, 0, 100_000));
            if (s.has("queue_capacity")) {
                writer = writer.withQueueCapacity((int) s.number("queue_capacity", 4096, 16, 1 << 20));
            }
            store = store.withWriter(writer);
            store = store.withAck(ack(s));
            SplitterOptions d = SplitterOptions.defaults();
            long windowBytes = s.bytes("splitter_window_bytes", d.windowBytes(), 4096, 1L << 30);
            long maxLagBytes = s.bytes("splitter_max_lag_bytes", d.maxLagBytes(), windowBytes, 1L << 40);
            SplitterOptions split = d.withEnabled(s.bool("splitter", true))
                    .withWindow(windowBytes, s.number("splitter_window_ms", d.windowMillis(), 1, 3_600_000))
                    .withMaxLag(maxLagBytes, s.number("splitter_max_lag_seconds", d.maxLagSeconds(), 1, 86_400 * 7))
                    .withMaxLagEvents(s.number("splitter_max_lag_events", d.maxLagEvents(), 1, 1L << 40))
                    .withNice((int) s.number("splitter_nice", d.nice(), 0, 19))
                    .withRetention(s.number("retain_log_minutes", d.retainMillis() / 60_000, 0, 525_600 * 10) * 60_000,
                            s.bytes("retain_log_bytes", d.retainBytes(), 0, Long.MAX_VALUE / 2));
            store = store.withSplitter(split);
        } catch (IllegalArgumentException e) {
            throw new Settings.BadSetting("bad store settings: " + e.getMessage());
        }
        store = store.withRetention(retention(s, store.segmentSize()));

        ServerConfig server;
        try {
            Path socket = s.path("socket", ServerConfig.DEFAULT_SOCKET);
            server = ServerConfig.defaults(socket);
            server = server.withJsonSocket(jsonSocket(s, socket)).withSocketGroup(s.string("socket_group", null))
                    .withAccess(AccessPolicy.of(s.string("read_write_users", null), s.string("read_write_groups", null),
                            s.string("read_only_users", null), s.string("read_only_groups", null)))
                    .withMaxConnections((int) s.number("max_connections", server.maxConnections(), 1, 65_536))
                    .withMaxInFlight((int) s.number("max_in_flight", server.maxInFlight(), 1, 65_536))
                    .withMaxFrameBytes((int) s.bytes("max_frame_bytes", server.maxFrameBytes(), 1024, 1 << 30))
                    .withSubscriberBuffer((int) s.bytes("subscriber_buffer_bytes", server.subscriberBufferBytes(), 4096, 1 << 30),
                            s.number("slow_subscriber_ms", server.slowSubscriberMillis(), 1, 86_400_000));
        } catch (IllegalArgumentException e) {
            throw new Settings.BadSetting("bad server settings: " + e.getMessage());
        }

        Map<Led, LedPin> leds = new EnumMap<>(Led.class);
        leds.put(Led.WRITE, pin(s, "led_write", DEFAULT_WRITE));
        leds.put(Led.LAG, pin(s, "led_lag", DEFAULT_LAG));
        leds.put(Led.FAULT, pin(s, "led_fault", DEFAULT_FAULT));
        // Optional: only two-board setups have something to show on it.
        leds.put(Led.REPLICA, pin(s, "led_replica", LedPin.DISABLED));
        List<Integer> used = new ArrayList<>();
        for (Map.Entry<Led, LedPin> e : leds.entrySet()) {
            if (e.getValue().enabled()) {
                if (used.contains(e.getValue().bcm())) {
                    throw s.bad("led_" + e.getKey().name().toLowerCase(java.util.Locale.ROOT),
                            "uses a pin another LED already uses");
                }
                used.add(e.getValue().bcm());
            }
        }
        boolean witness = s.string("role", "").strip().equalsIgnoreCase("witness");
        GroupConfig group = GroupConfig.parse(s, witness);
        ReplicationConfig replication = witness ? ReplicationConfig.OFF : replication(s);
        Shipping shipping = witness ? Shipping.NONE : shipping(s);
        if (group != null) {
            group = group(s, group, replication, shipping, store.writer().ack().timeoutMillis());
        }
        return new DaemonSettings(store, server, leds, s.bool("leds", true),
                s.number("status_interval_seconds", 60, 1, 86_400), configFile, replication, shipping,
                io.ringstore.mqtt.MqttConfig.from(s, io.ringstore.mqtt.MqttConfig.hostName()),
                io.ringstore.forward.ForwardOptions.parse(s, io.ringstore.forward.ForwardOptions.hostName()), group);
    }

    /**
     * The group's keys (the replication key and the folder of certificates: a witness's too) and
     * this board's place in it, checked against the other settings.
     */
    static GroupConfig group(Settings s, GroupConfig group, ReplicationConfig replication, Shipping shipping,
                             long replicaAckTimeoutMillis) throws Settings.BadSetting {
        if (group.witness()) {
            for (String k : List.of("replication_peers", "replication_listen", "replication_primary")) {
                if (!s.string(k, "").isBlank()) {
                    throw s.bad(k, "is set, but a witness (role = witness) ships and follows no log: it only votes "
                            + "(its group port is group_listen)");
                }
            }
            for (String k : List.of("replication_key_store", "replication_peer_certs")) {
                if (s.string(k, "").isBlank()) {
                    throw new Settings.BadSetting(k + " must be set on a witness: it talks to the other voters over "
                            + "mutual TLS with its own key (ringstore replication keygen --name NAME) and their "
                            + "certificates");
                }
            }
        } else {
            group.checkDataBoard(s, replication, replicaAckTimeoutMillis);
        }
        group = group.withKeys(s.path("replication_key_store", null), s.path("replication_peer_certs", null));
        try {
            String name = TlsMaterial.load(group.keyStore(), group.peerCerts(), List.of()).name();
            group = group.checkBoard(s, name);
            // Every other voter's certificate must be there now, not at the first election.
            TlsMaterial.load(group.keyStore(), group.peerCerts(), group.otherVoters().keySet());
        } catch (TlsMaterial.BadMaterial e) {
            throw new Settings.BadSetting("group keys: " + e.getMessage());
        }
        return group;
    }

    /**
     * json_socket: a path, or "off"; unset: json.sock beside the protobuf socket (so a socket
     * moved under a checkout or a test folder takes its JSON twin with it).
     */
    static Path jsonSocket(Settings s, Path socket) throws Settings.BadSetting {
        String v = s.string("json_socket", "").strip();
        if (v.equals("off")) {
            return null;
        }
        if (v.isEmpty()) {
            Path parent = socket.toAbsolutePath().getParent();
            return parent.resolve(ServerConfig.JSON_SOCKET_NAME);
        }
        return s.path("json_socket", null);
    }

    /** ack_mode (local, replica-memory, replica-durable) and replica_ack_timeout_ms. */
    static io.ringstore.writer.AckOptions ack(Settings s) throws Settings.BadSetting {
        io.ringstore.replication.AckMode mode;
        try {
            mode = io.ringstore.replication.AckMode.parse(s.string("ack_mode", "local"));
        } catch (IllegalArgumentException e) {
            throw s.bad("ack_mode", "must be local, replica-memory or replica-durable");
        }
        return io.ringstore.writer.AckOptions.of(mode).withTimeoutMillis(
                s.number("replica_ack_timeout_ms", io.ringstore.writer.AckOptions.DEFAULT_TIMEOUT_MILLIS, 1, 600_000));
    }

    /** The disk budget when the config file names none: see ringstore.conf. */
    static final String DEFAULT_DISK_BUDGET = "90%";

    /** stream_limits, disk_budget (bytes, or a percentage of the space the store can have), disk_low_water, retention_interval_seconds. */
    static RetentionOptions retention(Settings s, long segmentSize) throws Settings.BadSetting {
        RetentionOptions r = RetentionOptions.defaults();
        try {
            r = r.withPrefixes(RetentionOptions.parsePrefixes(s.string("stream_limits", "")));
        } catch (IllegalArgumentException e) {
            throw s.bad("stream_limits", e.getMessage());
        }
        long bytes = 0;
        int percent = 0;
        // On by default: an appliance must not fill the card it shares with its system.
        String budget = s.string("disk_budget", DEFAULT_DISK_BUDGET).strip();
        if (budget.endsWith("%")) {
            try {
                percent = Integer.parseInt(budget.substring(0, budget.length() - 1).strip());
            } catch (NumberFormatException e) {
                percent = -1;
            }
            if (percent < 1 || percent > 100) {
                throw s.bad("disk_budget", "a percentage must be 1% to 100%");
            }
        } else if (!budget.isEmpty() && !budget.equals("off")) {
            bytes = s.bytes("disk_budget", 0, 3 * segmentSize, Long.MAX_VALUE / 2);
        }
        String lowWater = s.string("disk_low_water", "80%").strip();
        int low;
        try {
            low = Integer.parseInt(lowWater.endsWith("%") ? lowWater.substring(0, lowWater.length() - 1).strip() : lowWater);
        } catch (NumberFormatException e) {
            low = -1;
        }
        if (low < 1 || low > 100) {
            throw s.bad("disk_low_water", "must be a percentage of the budget, 1% to 100%");
        }
        long interval = s.number("retention_interval_seconds", r.compactIntervalMillis() / 1000, 1, 86_400);
        return r.withBudget(bytes, percent, low).withCompactInterval(interval * 1000);
    }

    /**
     * replication_peers, replication_listen, replication_key_store, replication_peer_certs: all
     * or none (replication_listen is optional). The keys are read here, so a missing, unreadable,
     * world-readable or mismatched key or certificate stops the daemon at start (exit 2), not at
     * the first connection.
     */
    static ReplicationConfig replication(Settings s) throws Settings.BadSetting {
        // A key left empty (as the shipped file's lines are, uncommented) counts as not set.
        java.util.function.Predicate<String> set = k -> !s.string(k, "").isBlank();
        List<String> keys = List.of("replication_peers", "replication_key_store", "replication_peer_certs");
        if (keys.stream().noneMatch(set) && !set.test("replication_listen")) {
            return ReplicationConfig.OFF;
        }
        for (String k : keys) {
            if (!set.test(k)) {
                throw new Settings.BadSetting(k + " must be set when replication is configured (replication_peers, "
                        + "replication_key_store and replication_peer_certs go together)");
            }
        }
        java.net.InetSocketAddress listen = null;
        if (set.test("replication_listen")) {
            try {
                listen = ReplicationConfig.parseAddress(s.string("replication_listen", ""));
            } catch (IllegalArgumentException e) {
                throw s.bad("replication_listen", e.getMessage());
            }
        }
        ReplicationConfig config;
        try {
            config = new ReplicationConfig(listen, ReplicationConfig.parsePeers(s.string("replication_peers", "")),
                    s.path("replication_key_store", null), s.path("replication_peer_certs", null));
        } catch (IllegalArgumentException e) {
            throw s.bad("replication_peers", e.getMessage());
        }
        if (!config.enabled()) {
            throw s.bad("replication_peers", "names no board");
        }
        try {
            TlsMaterial.load(config);
        } catch (TlsMaterial.BadMaterial e) {
            throw new Settings.BadSetting("replication keys: " + e.getMessage());
        }
        return config;
    }

    /** role, replication_primary (a peer's name), standby_hold_seconds, ack_mode; checked against the peers. */
    static Shipping shipping(Settings s) throws Settings.BadSetting {
        Role role = s.choice("role", Role.PRIMARY, Role.class);
        String primary = s.string("replication_primary", "").strip();
        if (role == Role.STANDBY) {
            if (primary.isEmpty()) {
                throw s.bad("replication_primary", "must name the peer a standby follows");
            }
            if (!ReplicationConfig.parsePeers(s.string("replication_peers", "")).containsKey(primary)) {
                throw s.bad("replication_primary", "is not one of replication_peers");
            }
        } else if (!s.string("replication_listen", "").isBlank() || !primary.isEmpty()) {
            // A primary ships from its port: without one no standby can follow it.
            if (s.string("replication_listen", "").isBlank() && !s.string("replication_peers", "").isBlank()) {
                throw s.bad("replication_listen", "must be set on a primary (its standbys connect to it)");
            }
        }
        AckMode mode;
        try {
            // The writer's ack modes read the same key; here it is what the standbys are told,
            // so that promotion knows what the primary promised.
            mode = AckMode.parse(s.string("ack_mode", "local"));
        } catch (IllegalArgumentException e) {
            throw s.bad("ack_mode", "must be local, replica-memory or replica-durable");
        }
        long hold = s.number("standby_hold_seconds", ReplicationOptions.DEFAULT_STANDBY_HOLD_MILLIS / 1000, 0,
                86_400L * 365) * 1000;
        return new Shipping(role, primary.isEmpty() ? null : primary, hold, mode);
    }

    private static LedPin pin(Settings s, String key, LedPin fallback) throws Settings.BadSetting {
        if (!s.has(key)) {
            return fallback;
        }
        try {
            return LedPin.parse(s.string(key, ""));
        } catch (IllegalArgumentException e) {
            throw s.bad(key, "must be a BCM pin 0..27, optionally :low (e.g. 17, 17:low) or off");
        }
    }
}
