package io.ringstore.read;

/**
 * What readers may see of a stream under its retention limits (issue 8). Answered from any
 * thread, without blocking; streams without limits must cost a map miss at most.
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
}
