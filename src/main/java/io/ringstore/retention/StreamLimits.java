package io.ringstore.retention;

import io.ringstore.error.RingStoreException;

/**
 * A stream's retention limits; {@link #UNSET} (-1) in a field means "no such limit". One
 * instance exists per stream that has metadata of its own, and one per configured prefix; a
 * stream without either costs nothing.
 *
 * @param maxCount       keep at most this many of the newest events
 * @param maxAgeSeconds  keep events younger than this, by their timestamp
 * @param truncateBefore hide every version below this one
 * @param tombstone      hard-deleted: appends and reads get STREAM_DELETED
 */
public record StreamLimits(long maxCount, long maxAgeSeconds, long truncateBefore, boolean tombstone) {
    public static final long UNSET = -1;
    public static final StreamLimits NONE = new StreamLimits(UNSET, UNSET, UNSET, false);

    public StreamLimits {
        if (maxCount < UNSET || maxAgeSeconds < UNSET || truncateBefore < UNSET) {
            throw RingStoreException.invalid("limits must be >= 0 (or unset): max_count=" + maxCount
                    + " max_age_seconds=" + maxAgeSeconds + " truncate_before=" + truncateBefore);
        }
        if (maxCount == 0) {
            throw RingStoreException.invalid("max_count must be >= 1 (delete the stream to keep nothing)");
        }
        if (maxAgeSeconds == 0) {
            throw RingStoreException.invalid("max_age must be >= 1 second (delete the stream to keep nothing)");
        }
    }

    public boolean isNone() {
        return maxCount == UNSET && maxAgeSeconds == UNSET && truncateBefore == UNSET && !tombstone;
    }

    public boolean hasAgeLimit() {
        return maxAgeSeconds != UNSET;
    }

    /** This stream's own limits, with fields it leaves unset taken from {@code fallback} (a prefix's). */
    public StreamLimits over(StreamLimits fallback) {
        if (fallback == null || fallback.isNone()) {
            return this;
        }
        return new StreamLimits(maxCount != UNSET ? maxCount : fallback.maxCount,
                maxAgeSeconds != UNSET ? maxAgeSeconds : fallback.maxAgeSeconds,
                truncateBefore != UNSET ? truncateBefore : fallback.truncateBefore, tombstone || fallback.tombstone);
    }

    /**
     * The lowest version a reader may see of a stream whose last version is {@code lastVersion},
     * by count and truncation (age is decided per event, by timestamp).
     */
    public long firstVisible(long lastVersion) {
        long first = 0;
        if (truncateBefore != UNSET) {
            first = truncateBefore;
        }
        if (maxCount != UNSET) {
            first = Math.max(first, lastVersion - maxCount + 1);
        }
        return first;
    }

    /** Events with a timestamp below this (microseconds) are past the age limit; Long.MIN_VALUE without one. */
    public long minTimestampMicros(long nowMicros) {
        return maxAgeSeconds == UNSET ? Long.MIN_VALUE : nowMicros - maxAgeSeconds * 1_000_000L;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (maxCount != UNSET) {
            b.append("max_count=").append(maxCount).append(' ');
        }
        if (maxAgeSeconds != UNSET) {
            b.append("max_age_seconds=").append(maxAgeSeconds).append(' ');
        }
        if (truncateBefore != UNSET) {
            b.append("truncate_before=").append(truncateBefore).append(' ');
        }
        if (tombstone) {
            b.append("tombstone ");
        }
        return b.isEmpty() ? "none" : b.toString().strip();
    }
}
