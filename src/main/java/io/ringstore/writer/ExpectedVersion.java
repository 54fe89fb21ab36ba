package io.ringstore.writer;

/**
 * What an append expects of its stream: any state, no stream yet, some stream, or an exact last
 * version. Versions count from 0; a stream that does not exist has current version -1.
 */
public record ExpectedVersion(long value) {
    private static final long ANY_VALUE = -2;
    private static final long NO_STREAM_VALUE = -1;
    private static final long STREAM_EXISTS_VALUE = -4;

    public static final ExpectedVersion ANY = new ExpectedVersion(ANY_VALUE);
    public static final ExpectedVersion NO_STREAM = new ExpectedVersion(NO_STREAM_VALUE);
    public static final ExpectedVersion STREAM_EXISTS = new ExpectedVersion(STREAM_EXISTS_VALUE);

    public ExpectedVersion {
        if (value < 0 && value != ANY_VALUE && value != NO_STREAM_VALUE && value != STREAM_EXISTS_VALUE) {
            throw new IllegalArgumentException("not an expected version: " + value);
        }
    }

    public static ExpectedVersion exactly(long version) {
        if (version < 0) {
            throw new IllegalArgumentException("exact version must be >= 0: " + version);
        }
        return new ExpectedVersion(version);
    }

    /** Whether a stream whose last version is {@code current} (-1: absent) satisfies this. */
    public boolean matches(long current) {
        if (value == ANY_VALUE) {
            return true;
        }
        if (value == STREAM_EXISTS_VALUE) {
            return current >= 0;
        }
        return value == current;
    }

    /** Whether an earlier append that started at {@code firstVersion} was made under this expectation. */
    boolean matchesOriginal(long firstVersion) {
        return matches(firstVersion - 1);
    }

    @Override
    public String toString() {
        if (value == ANY_VALUE) {
            return "any";
        }
        if (value == NO_STREAM_VALUE) {
            return "no-stream";
        }
        if (value == STREAM_EXISTS_VALUE) {
            return "stream-exists";
        }
        return Long.toString(value);
    }
}
