package io.ringstore.forward;

import io.ringstore.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The NATS JetStream forwarder's settings ({@code forward_*} in ringstore.conf), checked once.
 * Off ({@link #OFF}) unless {@code forward_url} is set; then {@code forward_stream} must be too.
 *
 * @param urls             NATS server URLs ({@code nats://host:4222}, {@code tls://...}); tried in order
 * @param user             user name, or null
 * @param password         password (with {@code user}), or null; never logged
 * @param credentials      a NATS {@code .creds} file (JWT + nkey), or null
 * @param stream           the JetStream stream the events go to (it must exist: the user owns it)
 * @param subjects         how an event's subject is made
 * @param batch            events read from the log at a time
 * @param maxInFlight      publishes sent and not yet acknowledged by JetStream, at most
 * @param maxInFlightBytes their payload bytes, at most (always at least one)
 * @param ackTimeoutMillis a publish not acknowledged within this counts as a lost link
 * @param connectTimeoutMillis how long one connection attempt may take (jnats also waits this
 *                         long before it reports refused credentials)
 */
public record ForwardOptions(List<String> urls, String user, String password, Path credentials, String stream,
                             Subjects subjects, int batch, int maxInFlight, long maxInFlightBytes,
                             long ackTimeoutMillis, long connectTimeoutMillis) {
    public static final ForwardOptions OFF = null;
    public static final String DEFAULT_SUBJECT = "ringstore.{board}.{stream}";

    public static final Set<String> KEYS = Set.of("forward_url", "forward_user", "forward_password",
            "forward_credentials", "forward_stream", "forward_subject", "forward_board", "forward_batch",
            "forward_max_in_flight", "forward_max_in_flight_bytes", "forward_ack_timeout_ms",
            "forward_connect_timeout_ms");

    @Override
    public String toString() {
        // Never the password: this record may end up in a log line.
        return "ForwardOptions[urls=" + urls + " user=" + user + " credentials=" + credentials + " stream=" + stream
                + " subject=" + subjects.pattern() + "]";
    }

    /** The URLs for people (status, journal): without any user:password part. */
    public String urlsForDisplay() {
        return String.join(",", urls.stream().map(ForwardOptions::withoutUserInfo).toList());
    }

    static String withoutUserInfo(String url) {
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        return scheme >= 0 && at > scheme ? url.substring(0, scheme + 3) + url.substring(at + 1) : url;
    }

    /**
     * The forwarder's settings, or null when {@code forward_url} is not set (a key left empty, as
     * the shipped file's lines are when uncommented, counts as not set).
     *
     * @param defaultBoard the board name {@code {board}} stands for unless {@code forward_board} is set
     */
    public static ForwardOptions parse(Settings s, String defaultBoard) throws Settings.BadSetting {
        List<String> urls = s.list("forward_url");
        if (urls.isEmpty()) {
            return OFF;
        }
        for (String u : urls) {
            if (!u.matches("(nats|tls|ws|wss)://[^\\s]+")) {
                throw new Settings.BadSetting("forward_url: '" + withoutUserInfo(u)
                        + "' is not a NATS URL (like nats://192.168.1.20:4222)");
            }
        }
        String stream = s.string("forward_stream", "").strip();
        if (stream.isEmpty()) {
            throw new Settings.BadSetting("forward_stream must be set when forward_url is (the JetStream stream's name)");
        }
        if (!stream.matches("[A-Za-z0-9_-]+")) {
            throw s.bad("forward_stream", "must be a JetStream stream name (letters, digits, _ and -)");
        }
        String user = blankToNull(s.string("forward_user", ""));
        String password = blankToNull(s.string("forward_password", ""));
        if ((user == null) != (password == null)) {
            throw new Settings.BadSetting("forward_user and forward_password go together");
        }
        Path credentials = blankToNull(s.string("forward_credentials", "")) == null ? null
                : s.path("forward_credentials", null);
        if (credentials != null && !Files.isReadable(credentials)) {
            throw s.bad("forward_credentials", "cannot be read");
        }
        if (credentials != null && user != null) {
            throw new Settings.BadSetting("forward_credentials and forward_user/forward_password: set one or the other");
        }
        String board = s.string("forward_board", defaultBoard).strip();
        Subjects subjects;
        try {
            subjects = new Subjects(s.string("forward_subject", DEFAULT_SUBJECT).strip(), board);
        } catch (IllegalArgumentException e) {
            throw s.bad("forward_subject", e.getMessage());
        }
        int batch = (int) s.number("forward_batch", 256, 1, 10_000);
        int inFlight = (int) s.number("forward_max_in_flight", 1024, 1, 100_000);
        long inFlightBytes = s.bytes("forward_max_in_flight_bytes", 4L << 20, 1024, 1L << 30);
        long ackTimeout = s.number("forward_ack_timeout_ms", 10_000, 100, 600_000);
        long connectTimeout = s.number("forward_connect_timeout_ms", 5_000, 100, 600_000);
        return new ForwardOptions(List.copyOf(urls), user, password, credentials, stream, subjects, batch, inFlight,
                inFlightBytes, ackTimeout, connectTimeout);
    }

    private static String blankToNull(String v) {
        return v == null || v.isBlank() ? null : v.strip();
    }

    /** This machine's host name (what {@code {board}} stands for by default), "ringstore" when it cannot be read. */
    public static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or hidden
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "ringstore" : env.strip();
    }
}
