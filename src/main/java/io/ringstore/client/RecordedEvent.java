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

    /** The wire form, for code that formats events once for both the socket and the client (JSON lines). */
    public Event toEvent() {
        return Event.newBuilder().setStream(stream).setVersion(version).setPosition(position)
                .setEventId(com.google.protobuf.ByteString.copyFrom(eventId)).setType(type)
                .setData(com.google.protobuf.ByteString.copyFrom(data))
                .setMetadata(com.google.protobuf.ByteString.copyFrom(metadata)).setTimestampMicros(timestampMicros).build();
    }

    @Override
    public String toString() {
        return "RecordedEvent[stream=" + stream + " version=" + version + " position=" + position + " type=" + type
                + " dataBytes=" + data.length + "]";
    }
}
