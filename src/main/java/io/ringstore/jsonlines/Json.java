package io.ringstore.jsonlines;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small JSON reader and writer the CLI's JSON lines need (RFC 8259, strict). Values are
 * {@code Map<String,Object>} (keys in input order), {@code List<Object>}, {@code String},
 * {@link Number} (a {@link JsonNumber} that keeps the literal, so no digit is lost), {@code Boolean}
 * and {@code null}. Written compactly; numbers are written as they were read, so parsing and
 * writing a value gives the same text as writing it again.
 */
public final class Json {
    /** Depth limit, so a line of brackets cannot overflow the stack. */
    private static final int MAX_DEPTH = 512;

    private Json() {}

    /** A JSON number kept as its literal text. */
    public static final class JsonNumber extends Number {
        private final String text;

        public JsonNumber(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        @Override
        public int intValue() {
            return (int) longValue();
        }

        @Override
        public long longValue() {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                return new java.math.BigDecimal(text).longValue();
            }
        }

        @Override
        public float floatValue() {
            return (float) doubleValue();
        }

        @Override
        public double doubleValue() {
            return Double.parseDouble(text);
        }

        /** Whether the literal is an integer (no fraction, no exponent). */
        public boolean isInteger() {
            return text.chars().allMatch(c -> c == '-' || (c >= '0' && c <= '9'));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof JsonNumber n && n.text.equals(text);
        }

        @Override
        public int hashCode() {
            return text.hashCode();
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** Not valid JSON; the message says where. */
    public static final class ParseException extends Exception {
        ParseException(String message, int at) {
            super(message + " at offset " + at);
        }
    }

    // ------------------------------------------------------------------ reading

    public static Object parse(String text) throws ParseException {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value(0);
        p.skipSpace();
        if (p.at < text.length()) {
            throw new ParseException("unexpected text after the value", p.at);
        }
        return v;
    }

    private static final class Parser {
        private final String s;
        private int at;

        Parser(String s) {
            this.s = s;
        }

        void skipSpace() {
            while (at < s.length()) {
                char c = s.charAt(at);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    at++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) throws ParseException {
            if (depth > MAX_DEPTH) {
                throw new ParseException("nested deeper than " + MAX_DEPTH, at);
            }
            if (at >= s.length()) {
                throw new ParseException("unexpected end", at);
            }
            char c = s.charAt(at);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw new ParseException("unexpected character '" + c + "'", at);
                }
            };
        }

        private Object literal(String word, Object v) throws ParseException {
            if (!s.startsWith(word, at)) {
                throw new ParseException("expected " + word, at);
            }
            at += word.length();
            return v;
        }

        private Map<String, Object> object(int depth) throws ParseException {
            Map<String, Object> m = new LinkedHashMap<>();
            at++;
            skipSpace();
            if (peek() == '}') {
                at++;
                return m;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw new ParseException("expected a string key", at);
                }
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                Object v = value(depth + 1);
                if (m.containsKey(key)) {
                    throw new ParseException("duplicate key \"" + key + "\"", at);
                }
                m.put(key, v);
                skipSpace();
                char c = next();
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or '}'", at - 1);
                }
            }
        }

        private List<Object> array(int depth) throws ParseException {
            List<Object> l = new ArrayList<>();
            at++;
            skipSpace();
            if (peek() == ']') {
                at++;
                return l;
            }
            while (true) {
                skipSpace();
                l.add(value(depth + 1));
                skipSpace();
                char c = next();
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or ']'", at - 1);
                }
            }
        }

        private String string() throws ParseException {
            at++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return sb.toString();
                }
                if (c < 0x20) {
                    throw new ParseException("control character in a string", at - 1);
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (at + 4 > s.length()) {
                            throw new ParseException("short \\u escape", at);
                        }
                        try {
                            sb.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        } catch (NumberFormatException x) {
                            throw new ParseException("bad \\u escape", at);
                        }
                        at += 4;
                    }
                    default -> throw new ParseException("bad escape \\" + e, at - 1);
                }
            }
        }

        private JsonNumber number() throws ParseException {
            int start = at;
            if (peek() == '-') {
                at++;
            }
            if (peek() == '0') {
                at++;
            } else if (isDigit(peek())) {
                digits();
            } else {
                throw new ParseException("bad number", at);
            }
            if (peek() == '.') {
                at++;
                if (!isDigit(peek())) {
                    throw new ParseException("bad number fraction", at);
                }
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                at++;
                if (peek() == '+' || peek() == '-') {
                    at++;
                }
                if (!isDigit(peek())) {
                    throw new ParseException("bad number exponent", at);
                }
                digits();
            }
            return new JsonNumber(s.substring(start, at));
        }

        private void digits() {
            while (isDigit(peek())) {
                at++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private char peek() {
            return at < s.length() ? s.charAt(at) : '\0';
        }

        private char next() throws ParseException {
            if (at >= s.length()) {
                throw new ParseException("unexpected end", at);
            }
            return s.charAt(at++);
        }

        private void expect(char c) throws ParseException {
            if (next() != c) {
                throw new ParseException("expected '" + c + "'", at - 1);
            }
        }
    }

    // ------------------------------------------------------------------ writing

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    public static void write(Object v, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(s, sb);
            case Boolean b -> sb.append(b);
            case JsonNumber n -> sb.append(n.text());
            case Long l -> sb.append(l);
            case Integer i -> sb.append(i);
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    quote(String.valueOf(e.getKey()), sb);
                    sb.append(':');
                    write(e.getValue(), sb);
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    write(l.get(i), sb);
                }
                sb.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    public static void quote(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
