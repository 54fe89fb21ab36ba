package io.ringstore.daemon;

import io.ringstore.config.Settings;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.ReplicationOptions;
import io.ringstore.replication.ReplicationSockets;
import io.ringstore.replication.Role;
import java.net.InetSocketAddress;
import io.ringstore.retention.RetentionOptions;
import io.ringstore.server.AccessPolicy;
import io.ringstore.server.ServerConfig;
import io.ringstore.split.SplitterOptions;
import io.ringstore.status.Led;
import io.ringstore.status.LedPin;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.Durability;
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
 * @param replication this board's part in a replicated pair; null when not configured (then
 *                    nothing listens on the network)
 */
public record DaemonSettings(StoreConfig store, ServerConfig server, Map<Led, LedPin> leds, boolean ledsEnabled,
                             long statusIntervalSeconds, Path configFile, ReplicationOptions replication) {

    public static final Path DEFAULT_CONFIG = Path.of("/etc/ringstore/ringstore.conf");
    /** BCM 17, 27, 22: header pins 11, 13, 15, next to ground on pin 9/14; not used by I2C, SPI, UART, I2S or PWM HATs. */
    public static final LedPin DEFAULT_WRITE = new LedPin(17, false);
    public static final LedPin DEFAULT_LAG = new LedPin(27, false);
    public static final LedPin DEFAULT_FAULT = new LedPin(22, false);

    static final Set<String> KEYS = Set.of(
            "config", "data", "segment_size", "durability", "force_interval_ms", "repair", "queue_capacity",
            "splitter", "splitter_window_bytes", "splitter_window_ms", "splitter_max_lag_bytes",
            "splitter_max_lag_seconds", "splitter_max_lag_events", "retain_log_minutes", "retain_log_bytes",
            "socket", "socket_group", "read_write_users", "read_write_groups", "read_only_users", "read_only_groups",
            "max_connections", "max_in_flight", "max_frame_bytes", "subscriber_buffer_bytes", "slow_subscriber_ms",
            "leds", "led_write", "led_lag", "led_fault", "status_interval_seconds",
            "stream_limits", "disk_budget", "disk_low_water", "retention_interval_seconds",
            "role", "board", "ack_mode", "replication_listen", "replication_primary", "replication_peers", "standby_hold_seconds");
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
                    .withForceIntervalMillis(s.number("force_interval_ms", 100, 1, 60_000));
            if (s.has("queue_capacity")) {
                writer = writer.withQueueCapacity((int) s.number("queue_capacity", 4096, 16, 1 << 20));
            }
            store = store.withWriter(writer);
            SplitterOptions d = SplitterOptions.defaults();
            long windowBytes = s.bytes("splitter_window_bytes", d.windowBytes(), 4096, 1L << 30);
            long maxLagBytes = s.bytes("splitter_max_lag_bytes", d.maxLagBytes(), windowBytes, 1L << 40);
            SplitterOptions split = d.withEnabled(s.bool("splitter", true))
                    .withWindow(windowBytes, s.number("splitter_window_ms", d.windowMillis(), 1, 3_600_000))
                    .withMaxLag(maxLagBytes, s.number("splitter_max_lag_seconds", d.maxLagSeconds(), 1, 86_400 * 7))
                    .withMaxLagEvents(s.number("splitter_max_lag_events", d.maxLagEvents(), 1, 1L << 40))
                    .withRetention(s.number("retain_log_minutes", d.retainMillis() / 60_000, 0, 525_600 * 10) * 60_000,
                            s.bytes("retain_log_bytes", d.retainBytes(), 0, Long.MAX_VALUE / 2));
            store = store.withSplitter(split);
        } catch (IllegalArgumentException e) {
            throw new Settings.BadSetting("bad store settings: " + e.getMessage());
        }
        store = store.withRetention(retention(s, store.segmentSize()));

        ServerConfig server;
        try {
            server = ServerConfig.defaults(s.path("socket", ServerConfig.DEFAULT_SOCKET));
            server = server.withSocketGroup(s.string("socket_group", null))
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
        return new DaemonSettings(store, server, leds, s.bool("leds", true),
                s.number("status_interval_seconds", 60, 1, 86_400), configFile, replication(s));
    }

    /**
     * role, board, replication_listen, replication_primary, replication_peers,
     * standby_hold_seconds; null when none of them is set (replication not configured).
     */
    static ReplicationOptions replication(Settings s) throws Settings.BadSetting {
        if (!s.has("role") && !s.has("replication_listen") && !s.has("replication_primary") && !s.has("replication_peers")) {
            return null;
        }
        try {
            Role role = s.choice("role", Role.PRIMARY, Role.class);
            String board = s.string("board", "").strip();
            if (board.isEmpty()) {
                throw s.bad("board", "must name this board when replication is configured");
            }
            if (!s.has("replication_listen")) {
                throw new Settings.BadSetting("replication_listen (host:port) must be set when replication is configured");
            }
            InetSocketAddress listen = ReplicationOptions.address(s.string("replication_listen", ""));
            InetSocketAddress primary = s.has("replication_primary")
                    ? ReplicationOptions.address(s.string("replication_primary", "")) : null;
            List<ReplicationOptions.Peer> peers = new ArrayList<>();
            for (String p : s.list("replication_peers")) {
                peers.add(ReplicationOptions.Peer.parse(p));
            }
            if (peers.isEmpty()) {
                throw s.bad("replication_peers", "must list the other boards (name@host:port, comma-separated)");
            }
            long hold = s.number("standby_hold_seconds", ReplicationOptions.DEFAULT_STANDBY_HOLD_MILLIS / 1000, 0,
                    86_400L * 365) * 1000;
            // The writer's ack modes (another part of issue 15) read the same key; here it is what
            // the standbys are told, so that promotion knows what the primary promised.
            AckMode mode = AckMode.parse(s.string("ack_mode", "local"));
            return new ReplicationOptions(role, board, listen, primary, peers, hold, mode, ReplicationSockets.PLAIN);
        } catch (IllegalArgumentException e) {
            throw new Settings.BadSetting("bad replication settings: " + e.getMessage());
        }
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
