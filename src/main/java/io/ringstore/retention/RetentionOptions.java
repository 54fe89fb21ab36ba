package io.ringstore.retention;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Retention settings; checked once.
 *
 * @param prefixes            limits for every stream whose name starts with a prefix (longest prefix wins)
 * @param budgetBytes         most bytes the store may use (log, stream files, checkpoints); 0: no byte budget
 * @param budgetPercent       most the store may use as a percentage of its filesystem's size; 0: none
 *                            (with both set, the smaller wins)
 * @param lowWaterPercent     reclaiming starts when usage passes this percentage of the refusal
 *                            point (the budget less one log segment)
 * @param compactIntervalMillis how often streams with limits are checked for data past them
 *                            while usage is below the low-water mark
 */
public record RetentionOptions(List<Prefix> prefixes, long budgetBytes, int budgetPercent, int lowWaterPercent,
                               long compactIntervalMillis) {

    /** Limits for the streams whose names start with {@code prefix}. */
    public record Prefix(String prefix, StreamLimits limits) {}

    public static RetentionOptions defaults() {
        return new RetentionOptions(List.of(), 0, 0, 80, 300_000);
    }

    public RetentionOptions {
        prefixes = List.copyOf(prefixes);
        if (budgetBytes < 0 || budgetPercent < 0 || budgetPercent > 100) {
            throw new IllegalArgumentException("disk budget out of range: bytes=" + budgetBytes + " percent=" + budgetPercent);
        }
        if (lowWaterPercent < 1 || lowWaterPercent > 100) {
            throw new IllegalArgumentException("low-water mark must be 1..100 percent of the budget: " + lowWaterPercent);
        }
        if (compactIntervalMillis < 1) {
            throw new IllegalArgumentException("compact interval must be >= 1 ms: " + compactIntervalMillis);
        }
    }

    public boolean hasBudget() {
        return budgetBytes > 0 || budgetPercent > 0;
    }

    public RetentionOptions withPrefixes(List<Prefix> p) {
        return new RetentionOptions(p, budgetBytes, budgetPercent, lowWaterPercent, compactIntervalMillis);
    }

    public RetentionOptions withBudget(long bytes, int percent, int lowWater) {
        return new RetentionOptions(prefixes, bytes, percent, lowWater, compactIntervalMillis);
    }

    public RetentionOptions withCompactInterval(long millis) {
        return new RetentionOptions(prefixes, budgetBytes, budgetPercent, lowWaterPercent, millis);
    }

    /**
     * Parses the {@code stream_limits} setting: entries separated by {@code ;}, each
     * {@code PREFIX: key=value, key=value} with keys {@code max_count} (a number) and
     * {@code max_age} (a number with s, m, h or d). Example:
     * {@code sensor-: max_count=10000, max_age=30d; debug-: max_age=1d}.
     *
     * @throws IllegalArgumentException naming the entry that is wrong
     */
    public static List<Prefix> parsePrefixes(String value) {
        List<Prefix> out = new ArrayList<>();
        if (value == null || value.isBlank()) {
            return out;
        }
        for (String entry : value.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("expected 'PREFIX: max_count=N, max_age=T', got: " + entry.strip());
            }
            String prefix = entry.substring(0, colon).strip();
            if (prefix.isEmpty() || prefix.startsWith("$")) {
                throw new IllegalArgumentException("a prefix must not be empty or start with '$': " + entry.strip());
            }
            long count = StreamLimits.UNSET;
            long age = StreamLimits.UNSET;
            for (String kv : entry.substring(colon + 1).split(",")) {
                if (kv.isBlank()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected key=value in '" + entry.strip() + "', got: " + kv.strip());
                }
                String key = kv.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String v = kv.substring(eq + 1).strip();
                switch (key) {
                    case "max_count" -> count = positive(v, entry);
                    case "max_age" -> age = parseSeconds(v);
                    default -> throw new IllegalArgumentException("unknown limit '" + key + "' in: " + entry.strip()
                            + " (max_count, max_age)");
                }
            }
            if (count == StreamLimits.UNSET && age == StreamLimits.UNSET) {
                throw new IllegalArgumentException("no limit given for prefix " + prefix);
            }
            for (Prefix p : out) {
                if (p.prefix().equals(prefix)) {
                    throw new IllegalArgumentException("prefix given twice: " + prefix);
                }
            }
            out.add(new Prefix(prefix, new StreamLimits(count, age, StreamLimits.UNSET, false)));
        }
        out.sort(Comparator.comparingInt((Prefix p) -> p.prefix().length()).reversed());
        return out;
    }

    private static long positive(String v, String entry) {
        try {
            long n = Long.parseLong(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("max_count must be a whole number >= 1 in: " + entry.strip());
    }

    /** A duration in seconds: a whole number with s, m, h or d (no unit: seconds). */
    public static long parseSeconds(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 's' -> unit = 1;
                case 'm' -> unit = 60;
                case 'h' -> unit = 3_600;
                case 'd' -> unit = 86_400;
                default -> unit = 0;
            }
            if (unit != 0) {
                s = s.substring(0, s.length() - 1);
            } else {
                unit = 1;
            }
        }
        try {
            long n = Long.parseLong(s.strip());
            if (n >= 1 && n <= Long.MAX_VALUE / unit / 1_000_000L) {
                return n * unit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("not a duration >= 1s (a number with s, m, h or d): " + v);
    }
}
