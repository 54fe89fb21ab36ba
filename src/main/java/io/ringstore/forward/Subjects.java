package io.ringstore.forward;

import java.nio.charset.StandardCharsets;

/**
 * Makes an event's NATS subject from a pattern such as {@code ringstore.{board}.{stream}} and its
 * {@code Nats-Msg-Id}.
 *
 * <p>Stream and board names are made subject-safe, reversibly: a NATS subject is tokens split by
 * {@code .}, where {@code *} and {@code >} are wildcards and white space ends the subject, so
 * each of those bytes, {@code %} itself, control bytes and every byte of a non-ASCII character
 * becomes {@code %XX} (upper-case hex of the UTF-8 byte): {@code sensor.kitchen} becomes
 * {@code sensor%2Ekitchen}, {@code $$door} stays {@code $$door}. Stream names are never empty,
 * so no token is; an empty board name is refused at start.
 */
public final class Subjects {
    private final String pattern;
    private final String board;
    private final String before;
    private final String after;

    /** @throws IllegalArgumentException when the pattern cannot make a valid subject */
    public Subjects(String pattern, String board) {
        this.pattern = pattern;
        this.board = board;
        if (!pattern.contains("{stream}")) {
            throw new IllegalArgumentException("must contain {stream} (e.g. " + ForwardOptions.DEFAULT_SUBJECT + ")");
        }
        if (pattern.indexOf("{stream}") != pattern.lastIndexOf("{stream}")) {
            throw new IllegalArgumentException("must contain {stream} once");
        }
        if (board.isEmpty()) {
            throw new IllegalArgumentException("{board} is empty: set forward_board");
        }
        String p = pattern.replace("{board}", safe(board));
        int at = p.indexOf("{stream}");
        this.before = p.substring(0, at);
        this.after = p.substring(at + "{stream}".length());
        String sample = subject("x");
        if (sample.startsWith(".") || sample.endsWith(".") || sample.contains("..")) {
            throw new IllegalArgumentException("makes an empty subject token");
        }
        for (int i = 0; i < sample.length(); i++) {
            char c = sample.charAt(i);
            if (c == '*' || c == '>' || c <= ' ' || c > '~') {
                throw new IllegalArgumentException("may hold only printable ASCII, no wildcards (* >) and no spaces");
            }
        }
        if (sample.contains("{") || sample.contains("}")) {
            throw new IllegalArgumentException("knows only {board} and {stream}");
        }
    }

    public String pattern() {
        return pattern;
    }

    /** What {@code {board}} stands for (as configured, before it is made subject-safe). */
    public String board() {
        return board;
    }

    /** The subject of an event of {@code stream}. */
    public String subject(String stream) {
        return before + safe(stream) + after;
    }

    /** {@code name} as one subject token (see the class comment). */
    public static String safe(String name) {
        StringBuilder b = null;
        byte[] bytes = null;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' && c != '%') {
                continue;
            }
            // Rare: escape the whole name byte by byte from here.
            bytes = name.getBytes(StandardCharsets.UTF_8);
            b = new StringBuilder(bytes.length + 8);
            break;
        }
        if (b == null) {
            return name;
        }
        for (byte x : bytes) {
            int c = x & 0xff;
            if (c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' && c != '%') {
                b.append((char) c);
            } else {
                b.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        return b.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /**
     * The {@code Nats-Msg-Id} of an event: its 16-byte event id as a UUID string (what clients
     * supply or the store generated, so the same event keeps its id however often it is sent);
     * an event without one gets {@code rs-<board>-<position>}, stable across restarts because a
     * log position never changes.
     */
    public static String messageId(byte[] eventId, String board, long position) {
        if (eventId == null || eventId.length != 16 || allZero(eventId)) {
            return "rs-" + safe(board) + "-" + position;
        }
        return uuid(eventId);
    }

    static String uuid(byte[] id) {
        StringBuilder b = new StringBuilder(36);
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                b.append('-');
            }
            b.append(Character.forDigit((id[i] >> 4) & 15, 16)).append(Character.forDigit(id[i] & 15, 16));
        }
        return b.toString();
    }

    private static boolean allZero(byte[] id) {
        for (byte x : id) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
