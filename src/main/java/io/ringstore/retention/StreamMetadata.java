package io.ringstore.retention;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.log.proto.StreamMetadataRecord;

/**
 * Where a stream's limits and deletion state are stored: as ordinary events in the main log,
 * in the stream's metadata stream {@code "$$" + stream}, so they are forced with the group
 * commit, survive restarts, are split into a stream file of their own and travel with the data
 * (a {@code $all} reader sees them in log order). The newest event of the metadata stream is
 * the stream's metadata; it replaces every earlier one.
 *
 * <pre>
 * metadata event = one main-log record ({@link io.ringstore.log.RecordFrame} frame, LogRecord body):
 *   stream            "$$" + the stream's name (names starting with '$' are refused to clients)
 *   version           counts up from 0 like any stream's
 *   type              "$metadata"
 *   data              protobuf ringstore.log.v1.StreamMetadataRecord (src/main/proto/stream_metadata.proto):
 *                       1 max_count        optional uint64
 *                       2 max_age_seconds  optional uint64
 *                       3 truncate_before  optional uint64
 *                       4 tombstone        bool
 *   metadata          empty
 * </pre>
 *
 * Integrity is the log's and the stream file's (CRC32C per frame). A record whose data does not
 * parse is reported and ignored at start (the stream keeps no limits rather than hiding data).
 */
public final class StreamMetadata {
    public static final String PREFIX = "$$";
    public static final String TYPE = "$metadata";

    private StreamMetadata() {}

    public static String metadataStreamOf(String stream) {
        return PREFIX + stream;
    }

    public static boolean isMetadataStream(String name) {
        return name.startsWith(PREFIX);
    }

    /** The stream a metadata stream describes. */
    public static String streamOf(String metadataStream) {
        return metadataStream.substring(PREFIX.length());
    }

    public static byte[] encode(StreamLimits limits) {
        StreamMetadataRecord.Builder b = StreamMetadataRecord.newBuilder().setTombstone(limits.tombstone());
        if (limits.maxCount() != StreamLimits.UNSET) {
            b.setMaxCount(limits.maxCount());
        }
        if (limits.maxAgeSeconds() != StreamLimits.UNSET) {
            b.setMaxAgeSeconds(limits.maxAgeSeconds());
        }
        if (limits.truncateBefore() != StreamLimits.UNSET) {
            b.setTruncateBefore(limits.truncateBefore());
        }
        return b.build().toByteArray();
    }

    /**
     * The limits a metadata event carries.
     *
     * @throws InvalidProtocolBufferException when its data is not a StreamMetadataRecord
     */
    public static StreamLimits decode(LogRecord event) throws InvalidProtocolBufferException {
        StreamMetadataRecord m = StreamMetadataRecord.parseFrom(event.getData());
        return new StreamLimits(m.hasMaxCount() ? m.getMaxCount() : StreamLimits.UNSET,
                m.hasMaxAgeSeconds() ? m.getMaxAgeSeconds() : StreamLimits.UNSET,
                m.hasTruncateBefore() ? m.getTruncateBefore() : StreamLimits.UNSET, m.getTombstone());
    }
}
