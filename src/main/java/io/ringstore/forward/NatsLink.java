package io.ringstore.forward;

import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.ringstore.log.proto.LogRecord;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One connection to NATS, with the checks that make its failures clear: the JetStream stream
 * exists and takes our subjects. It does not reconnect by itself (jnats' reconnect is turned
 * off): a lost link ends the forwarder's session, which backs off and starts again from its
 * checkpoint, so what is in flight is simply sent again (JetStream drops the duplicates by
 * {@code Nats-Msg-Id}).
 */
final class NatsLink implements AutoCloseable {
    private final ForwardOptions options;
    private final Connection connection;
    private final JetStream js;
    private final String board;

    private NatsLink(ForwardOptions options, Connection connection, String board) throws IOException {
        this.options = options;
        this.connection = connection;
        // jnats fails an async publish on its own after the request timeout: make it ours.
        this.js = connection.jetStream(io.nats.client.JetStreamOptions.builder()
                .requestTimeout(Duration.ofMillis(options.ackTimeoutMillis())).build());
        this.board = board;
    }

    /** Problems worth their own words in the journal and status (the rest are the exception's). */
    static final class LinkException extends Exception {
        LinkException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Connects and checks the stream.
     *
     * @throws LinkException saying what is wrong: unreachable, refused credentials, no such stream,
     *         a stream that does not take the subjects
     */
    static NatsLink open(ForwardOptions options, String board) throws LinkException, InterruptedException {
        Options.Builder b = new Options.Builder().servers(options.urls().toArray(String[]::new)).noRandomize()
                .connectionName("ringstore-forward-" + board).connectionTimeout(Duration.ofMillis(options.connectTimeoutMillis())).noReconnect()
                .pingInterval(Duration.ofSeconds(10)).errorListener(new ErrorListener() {
                    // jnats' default listener writes to java.util.logging (stderr, the journal)
                    // for every hiccup; the forwarder reports failures itself, once per change.
                });
        if (options.user() != null) {
            b.userInfo(options.user(), options.password());
        }
        if (options.credentials() != null) {
            b.authHandler(Nats.credentials(options.credentials().toString()));
        }
        Connection c;
        try {
            c = Nats.connect(b.build());
        } catch (IOException | RuntimeException e) {
            String why = causes(e);
            String lower = why.toLowerCase(java.util.Locale.ROOT);
            if (lower.contains("authorization") || lower.contains("authentication") || lower.contains("auth")) {
                throw new LinkException("NATS refused the credentials (forward_user/forward_password or "
                        + "forward_credentials): " + why, e);
            }
            throw new LinkException("cannot reach NATS at " + options.urlsForDisplay() + ": " + why, e);
        }
        NatsLink link;
        try {
            link = new NatsLink(options, c, board);
            link.checkStream();
        } catch (LinkException e) {
            closeQuietly(c);
            throw e;
        } catch (IOException | RuntimeException e) {
            closeQuietly(c);
            throw new LinkException("JetStream not available at " + options.urlsForDisplay() + ": " + causes(e), e);
        }
        return link;
    }

    /** The stream must exist (we do not create it: its limits, replicas and duplicate window are the user's) and take our subjects. */
    private void checkStream() throws LinkException, IOException {
        StreamInfo info;
        try {
            info = connection.jetStreamManagement().getStreamInfo(options.stream());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == 10059 || e.getErrorCode() == 404) {
                throw new LinkException("JetStream stream '" + options.stream() + "' does not exist at "
                        + options.urlsForDisplay() + ": create it (README \"Forwarding to NATS JetStream\"), e.g. "
                        + "nats stream add " + options.stream() + " --subjects '" + wildcardOf(options.subjects()) + "' "
                        + "--storage file --dupe-window 2h", e);
            }
            throw new LinkException("JetStream refused the stream lookup: " + e.getMessage(), e);
        }
        String sample = options.subjects().subject("sample");
        List<String> taken = info.getConfiguration().getSubjects();
        if (taken.stream().noneMatch(f -> matches(f, sample))) {
            throw new LinkException("JetStream stream '" + options.stream() + "' takes subjects " + taken
                    + ", not ours (" + options.subjects().pattern() + ", e.g. " + sample + ")", null);
        }
    }

    /** Our subject pattern with each placeholder token as a wildcard: {@code ringstore.b1.>}. */
    static String wildcardOf(Subjects subjects) {
        String s = subjects.subject("\u0000");
        String[] tokens = s.split("\\.", -1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].contains("%00")) {
                b.append(i == tokens.length - 1 ? ">" : "*");
            } else {
                b.append(tokens[i]);
            }
            if (i < tokens.length - 1) {
                b.append('.');
            }
        }
        return b.toString();
    }

    /** Whether NATS subject filter {@code filter} (with {@code *} and {@code >}) matches {@code subject}. */
    static boolean matches(String filter, String subject) {
        String[] f = filter.split("\\.", -1);
        String[] s = subject.split("\\.", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals(">")) {
                return s.length > i;
            }
            if (i >= s.length || !(f[i].equals("*") || f[i].equals(s[i]))) {
                return false;
            }
        }
        return f.length == s.length;
    }

    /**
     * Publishes one event; the future completes with whether JetStream called it a duplicate
     * (already held: a resend it dropped), or fails.
     */
    CompletableFuture<Boolean> publish(LogRecord r) {
        Headers h = new Headers();
        h.put("Ringstore-Stream", headerSafe(r.getStream()));
        h.put("Ringstore-Version", Long.toString(r.getVersion()));
        h.put("Ringstore-Position", Long.toString(r.getPosition()));
        h.put("Ringstore-Type", headerSafe(r.getType()));
        h.put("Ringstore-Event-Id", Subjects.messageId(r.getEventId().toByteArray(), board, r.getPosition()));
        h.put("Ringstore-Timestamp-Micros", Long.toString(r.getTimestampMicros()));
        h.put("Ringstore-Board", headerSafe(board));
        if (!r.getMetadata().isEmpty()) {
            h.put("Ringstore-Metadata-Base64", Base64.getEncoder().encodeToString(r.getMetadata().toByteArray()));
        }
        String id = Subjects.messageId(r.getEventId().toByteArray(), board, r.getPosition());
        NatsMessage m = NatsMessage.builder().subject(options.subjects().subject(r.getStream())).headers(h)
                .data(r.getData().toByteArray()).build();
        PublishOptions po = PublishOptions.builder().expectedStream(options.stream()).messageId(id).build();
        return js.publishAsync(m, po).thenApply(ack -> ack.isDuplicate());
    }

    /** Whether the connection is still up (noReconnect: once lost, it stays lost). */
    boolean connected() {
        return connection.getStatus() == Connection.Status.CONNECTED;
    }

    String serverUrl() {
        String u = connection.getConnectedUrl();
        return u == null ? options.urlsForDisplay() : ForwardOptions.withoutUserInfo(u);
    }

    /** Header values are printable ASCII: anything else (and %) as %XX of its UTF-8 bytes. */
    static String headerSafe(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < ' ' || c > '~' || c == '%') {
                StringBuilder b = new StringBuilder();
                for (byte x : v.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    int k = x & 0xff;
                    if (k >= ' ' && k <= '~' && k != '%') {
                        b.append((char) k);
                    } else {
                        b.append('%').append(Character.toUpperCase(Character.forDigit(k >> 4, 16)))
                                .append(Character.toUpperCase(Character.forDigit(k & 15, 16)));
                    }
                }
                return b.toString();
            }
        }
        return v;
    }

    /** An exception and its causes' messages, for one journal line. */
    static String causes(Throwable e) {
        StringBuilder b = new StringBuilder();
        java.util.Set<Throwable> seen = new java.util.HashSet<>();
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (b.indexOf(m) < 0) {
                b.append(b.isEmpty() ? "" : ": ").append(m);
            }
        }
        return b.toString();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // closing a broken link
        }
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }
}
