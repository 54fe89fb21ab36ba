package io.ringstore.read;

/**
 * What readers may see of a stream under its retention limits (issue 8). Answered from any
 * thread, without blocking; streams without limits must cost a map miss at most.
 *
 * <p>Stream reads ({@link StreamReader}) and {@code $all} reads and subscriptions
 * ({@link AllReader}) both decide through {@link #window} and {@link Window#shows}, so the two
 * can never disagree on what a limit hides.
 */
public interface StreamVisibility {
    StreamVisibility ALL = new StreamVisibility() {
        @Override
        public boolean deleted(String stream) {
            return false;
        }

        @Override
        public long firstVisible(String stream, long lastVersion) {
            return 0;
        }

        @Override
        public long minTimestampMicros(String stream, long nowMicros) {
            return Long.MIN_VALUE;
        }
    };

    /** Hard-deleted: reads get STREAM_DELETED. */
    boolean deleted(String stream);

    /** The lowest version readers may see, by count and truncation, when the last is {@code lastVersion}. */
    long firstVisible(String stream, long lastVersion);

    /** Events stamped before this are past the stream's age limit (Long.MIN_VALUE: none). */
    long minTimestampMicros(String stream, long nowMicros);

    /**
     * What of {@code stream} readers may see now, when its last committed version is
     * {@code lastVersion}: the one place the limits are turned into a rule.
     */
    default Window window(String stream, long lastVersion, long nowMicros) {
        return new Window(deleted(stream), firstVisible(stream, lastVersion), minTimestampMicros(stream, nowMicros));
    }

    /**
     * One stream's visible part at one moment.
     *
     * @param deleted            hard-deleted (a tombstone): nothing is visible
     * @param firstVersion       versions below this are past the count limit, truncate_before or a soft delete
     * @param minTimestampMicros events stamped before this are past the age limit (Long.MIN_VALUE: none)
     */
    record Window(boolean deleted, long firstVersion, long minTimestampMicros) {
        /** Whether a reader may see the event with this version and timestamp. */
        public boolean shows(long version, long timestampMicros) {
            return !deleted && version >= firstVersion && timestampMicros >= minTimestampMicros;
        }

        /** Whether the age limit can hide anything (a read then checks event by event). */
        public boolean hasAgeLimit() {
            return minTimestampMicros != Long.MIN_VALUE;
        }
    }
}
