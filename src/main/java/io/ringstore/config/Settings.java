package io.ringstore.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The daemon's settings: the config file ({@code key = value} lines, {@code #} comments),
 * overridden by command-line flags ({@code --key value}, dashes or underscores alike). Every
 * key must be known; every value is checked once, and a bad one is reported with its key and
 * where it came from (file and line, or the flag).
 */
public final class Settings {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    private final Set<String> known;

    /** A setting that cannot be used; the message names the key and where it was set. */
    public static final class BadSetting extends Exception {
        public BadSetting(String message) {
            super(message);
        }
    }

    private Settings(Set<String> known) {
        this.known = known;
    }

    /**
     * Reads {@code file} (when given and present, or required) and applies {@code flags} on top.
     *
     * @param known     every accepted key (underscore form)
     * @param flagsOnly keys that are flags without a value (e.g. repair)
     */
    public static Settings load(Path file, boolean fileRequired, List<String> flags, Set<String> known,
                                Set<String> flagsOnly) throws BadSetting {
        Settings s = new Settings(known);
        if (file != null) {
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i).strip();
                    if (line.isEmpty() || line.startsWith("#")) {
                        continue;
                    }
                    int eq = line.indexOf('=');
                    String where = file + ":" + (i + 1);
                    if (eq <= 0) {
                        throw new BadSetting(where + ": expected 'key = value', got: " + line);
                    }
                    s.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip(), where);
                }
            } catch (NoSuchFileException e) {
                if (fileRequired) {
                    throw new BadSetting("config file not found: " + file);
                }
            } catch (IOException e) {
                throw new BadSetting("cannot read config file " + file + ": " + e.getMessage());
            }
        }
        for (int i = 0; i < flags.size(); i++) {
            String flag = flags.get(i);
            if (!flag.startsWith("--")) {
                throw new BadSetting("unexpected argument: " + flag);
            }
            String key = normalize(flag.substring(2));
            if (flagsOnly.contains(key)) {
                s.put(key, "true", flag);
                continue;
            }
            if (i + 1 >= flags.size()) {
                throw new BadSetting("missing value for " + flag);
            }
            s.put(key, flags.get(++i), flag);
        }
        return s;
    }

    static String normalize(String key) {
        return key.strip().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    private void put(String rawKey, String value, String origin) throws BadSetting {
        String key = normalize(rawKey);
        if (!known.contains(key)) {
            throw new BadSetting(origin + ": unknown setting '" + rawKey + "'");
        }
        values.put(key, value);
        origins.put(key, origin);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public Path path(String key, Path fallback) {
        String v = values.get(key);
        return v == null ? fallback : Path.of(v);
    }

    /** A size in bytes: a number with an optional k, m or g (powers of 1024). */
    public long bytes(String key, long fallback, long min, long max) throws BadSetting {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = parseSize(v);
        } catch (NumberFormatException e) {
            throw bad(key, "is not a size (like 512k, 64m, 1g)");
        }
        if (n < min || n > max) {
            throw bad(key, "must be between " + min + " and " + max + " bytes");
        }
        return n;
    }

    public long number(String key, long fallback, long min, long max) throws BadSetting {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw bad(key, "is not a whole number");
        }
        if (n < min || n > max) {
            throw bad(key, "must be between " + min + " and " + max);
        }
        return n;
    }

    public boolean bool(String key, boolean fallback) throws BadSetting {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw bad(key, "must be on or off");
        };
    }

    public <E extends Enum<E>> E choice(String key, E fallback, Class<E> type) throws BadSetting {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Enum.valueOf(type, v.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            StringBuilder allowed = new StringBuilder();
            for (E c : type.getEnumConstants()) {
                allowed.append(allowed.isEmpty() ? "" : ", ").append(c.name().toLowerCase(Locale.ROOT));
            }
            throw bad(key, "must be one of " + allowed);
        }
    }

    /** A comma-separated list (empty when unset). */
    public List<String> list(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            return List.of();
        }
        return java.util.Arrays.stream(v.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    }

    /** An error about {@code key} that says where it was set. */
    public BadSetting bad(String key, String problem) {
        String origin = origins.getOrDefault(key, "default");
        return new BadSetting(origin + ": " + key + " = '" + values.get(key) + "' " + problem);
    }

    static long parseSize(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        if (!s.isEmpty() && "kmg".indexOf(s.charAt(s.length() - 1)) >= 0) {
            mult = switch (s.charAt(s.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            s = s.substring(0, s.length() - 1);
        }
        return Math.multiplyExact(Long.parseLong(s.strip()), mult);
    }
}
