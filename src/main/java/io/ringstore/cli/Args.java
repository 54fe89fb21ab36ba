package io.ringstore.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --key value} / {@code --flag} parsing with clear errors. */
public final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    /** Thrown for a bad command line; the message says what is wrong. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    private Args() {}

    public static Args parse(String[] args, Set<String> withValue, Set<String> flags) throws UsageException {
        return parse(args, withValue, flags, 0);
    }

    /**
     * Parses options and up to {@code maxPositional} arguments that do not start with
     * {@code --} (kept in order; {@code --} ends the options).
     */
    public static Args parse(String[] args, Set<String> withValue, Set<String> flags, int maxPositional)
            throws UsageException {
        Args a = new Args();
        boolean optionsEnded = false;
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (optionsEnded || (!k.startsWith("--") && maxPositional > 0)) {
                if (a.positional.size() >= maxPositional) {
                    throw new UsageException("unexpected argument: " + k);
                }
                a.positional.add(k);
            } else if (k.equals("--") && maxPositional > 0) {
                optionsEnded = true;
            } else if (withValue.contains(k)) {
                if (i + 1 >= args.length) {
                    throw new UsageException("missing value for " + k);
                }
                a.values.put(k, args[++i]);
            } else if (flags.contains(k)) {
                a.values.put(k, "true");
            } else {
                throw new UsageException("unknown option: " + k);
            }
        }
        return a;
    }

    /** Whether the arguments ask for help ({@code --help} or {@code -h} anywhere). */
    public static boolean wantsHelp(String[] args) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    public List<String> positional() {
        return positional;
    }

    public String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public long getLong(String key, long fallback) throws UsageException {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return parseSize(v);
        } catch (NumberFormatException e) {
            throw new UsageException("not a number for " + key + ": " + v);
        }
    }

    public int getInt(String key, int fallback) throws UsageException {
        long v = getLong(key, fallback);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new UsageException("number out of range for " + key + ": " + v);
        }
        return (int) v;
    }

    /** Parses a number with an optional k/m/g suffix (powers of 1024). */
    static long parseSize(String v) {
        String s = v.trim().toLowerCase();
        long mult = 1;
        if (s.endsWith("k") || s.endsWith("m") || s.endsWith("g")) {
            mult = switch (s.charAt(s.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            s = s.substring(0, s.length() - 1);
        }
        return Long.parseLong(s) * mult;
    }
}
