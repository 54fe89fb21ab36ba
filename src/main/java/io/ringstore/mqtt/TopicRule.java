package io.ringstore.mqtt;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One line of {@code mqtt_topics}: an MQTT topic filter, the stream a matching topic goes to and
 * its event type, e.g. {@code sensors/+/reading -> sensor-{1} type reading}.
 *
 * <p>{@code {1}}, {@code {2}}, ... are the topic levels the filter's wildcards matched, in order
 * ({@code #} matches the rest of the topic, slashes included); {@code {topic}} is the whole
 * topic. Without {@code type}, the type is the topic's last level.
 *
 * @param filter the MQTT topic filter subscribed to (QoS 1)
 * @param stream the stream pattern
 * @param type   the type pattern, or null for the topic's last level
 */
public record TopicRule(String filter, String stream, String type) {

    /** A topic this rule cannot turn into a stream or type (the message says why). */
    public static final class NoMatch extends Exception {
        NoMatch(String message) {
            super(message);
        }
    }

    public TopicRule {
        if (filter == null || filter.isEmpty()) {
            throw new IllegalArgumentException("a topic filter must not be empty");
        }
        String[] levels = filter.split("/", -1);
        int wildcards = 0;
        for (int i = 0; i < levels.length; i++) {
            String l = levels[i];
            if (l.equals("+")) {
                wildcards++;
            } else if (l.equals("#")) {
                if (i != levels.length - 1) {
                    throw new IllegalArgumentException("'#' must be the last level of a topic filter: " + filter);
                }
                wildcards++;
            } else if (l.contains("+") || l.contains("#")) {
                throw new IllegalArgumentException("'+' and '#' must fill a whole level: " + filter);
            }
        }
        if (filter.startsWith("$share/")) {
            throw new IllegalArgumentException("shared subscriptions are not supported: " + filter);
        }
        checkPlaceholders(stream, wildcards, "stream");
        if (type != null) {
            checkPlaceholders(type, wildcards, "type");
        }
    }

    private static void checkPlaceholders(String pattern, int wildcards, String what) {
        if (pattern == null || pattern.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " must not be empty");
        }
        int at = 0;
        while ((at = pattern.indexOf('{', at)) >= 0) {
            int end = pattern.indexOf('}', at);
            if (end < 0) {
                throw new IllegalArgumentException("unclosed '{' in " + what + " '" + pattern + "'");
            }
            String name = pattern.substring(at + 1, end);
            if (!name.equals("topic")) {
                int n;
                try {
                    n = Integer.parseInt(name);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'{" + name + "}' in " + what + " '" + pattern
                            + "' is neither {topic} nor a wildcard number");
                }
                if (n < 1 || n > wildcards) {
                    throw new IllegalArgumentException("'{" + n + "}' in " + what + " '" + pattern + "': the filter has "
                            + wildcards + " wildcard(s)");
                }
            }
            at = end + 1;
        }
    }

    /**
     * Parses {@code FILTER -> STREAM [type TYPE]} rules separated by {@code ;} (a topic filter may
     * hold commas). The first rule whose filter matches a topic maps it.
     */
    public static List<TopicRule> parseAll(String text) {
        List<TopicRule> rules = new ArrayList<>();
        for (String part : text.split(";")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int arrow = p.indexOf("->");
            if (arrow <= 0) {
                throw new IllegalArgumentException("expected 'FILTER -> STREAM [type TYPE]', got: " + p);
            }
            String filter = p.substring(0, arrow).strip();
            String[] target = p.substring(arrow + 2).strip().split("\\s+");
            String type = null;
            if (target.length == 3 && target[1].toLowerCase(Locale.ROOT).equals("type")) {
                type = target[2];
            } else if (target.length != 1 || target[0].isEmpty()) {
                throw new IllegalArgumentException("expected 'FILTER -> STREAM [type TYPE]', got: " + p);
            }
            rules.add(new TopicRule(filter, target[0], type));
        }
        return List.copyOf(rules);
    }

    /** The levels the wildcards matched, or null when the topic does not match the filter. */
    List<String> match(String topic) {
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        // MQTT: wildcards at the first level do not match topics starting with '$'.
        if (topic.startsWith("$") && (f[0].equals("+") || f[0].equals("#"))) {
            return null;
        }
        List<String> captured = new ArrayList<>();
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                // "a/#" also matches "a" itself (the parent level), capturing nothing.
                captured.add(i < t.length ? String.join("/", java.util.Arrays.copyOfRange(t, i, t.length)) : "");
                return captured;
            }
            if (i >= t.length) {
                return null;
            }
            if (f[i].equals("+")) {
                captured.add(t[i]);
            } else if (!f[i].equals(t[i])) {
                return null;
            }
        }
        return f.length == t.length ? captured : null;
    }

    /** The stream and type for {@code topic}, which must match this rule's filter. */
    Target target(String topic, List<String> captured) {
        String[] levels = topic.split("/", -1);
        return new Target(fill(stream, topic, captured), type == null ? levels[levels.length - 1] : fill(type, topic, captured));
    }

    /** Where a message goes. */
    record Target(String stream, String type) {}

    private static String fill(String pattern, String topic, List<String> captured) {
        StringBuilder b = new StringBuilder();
        int at = 0;
        while (true) {
            int open = pattern.indexOf('{', at);
            if (open < 0) {
                return b.append(pattern, at, pattern.length()).toString();
            }
            int close = pattern.indexOf('}', open);
            b.append(pattern, at, open);
            String name = pattern.substring(open + 1, close);
            b.append(name.equals("topic") ? topic : captured.get(Integer.parseInt(name) - 1));
            at = close + 1;
        }
    }

    @Override
    public String toString() {
        return filter + " -> " + stream + (type == null ? "" : " type " + type);
    }
}
