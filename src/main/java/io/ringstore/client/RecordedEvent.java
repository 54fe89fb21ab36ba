package io.ringstore.client;

import io.ringstore.protocol.v1.Event;

/**
 * An event as read back.
 *
 * @param stream          its stream
 * @param version         its version in the stream, from 0
 * @param position        its position in the {@code $all} order (the resume token of subscriptions)
 * @param eventId         16 bytes
 * @param type            its type
 * @param data            its payload
 * @param metadata        its metadata (empty when none)
 * @param timestampMicros when the store accepted it, microseconds since the epoch
 */
public record RecordedEvent(String stream, long version, long position, byte[] eventId, String type, byte[] data,
                            byte[] metadata, long timestampMicros) {

    public static RecordedEvent of(Event e) {
        return new RecordedEvent(e.getStream(), e.getVersion(), e.getPosition(), e.getEventId().toByteArray(),
                e.getType(), e.getData().toByteArray(), e.getMetadata().toByteArray(), e.getTimestampMicros());
    }

    @Override
    public String toString() {
        return "RecordedEvent[stream=" + stream + " version=" + version + " position=" + position + " type=" + type
                + " dataBytes=" + data.length + "]";
    }
}
