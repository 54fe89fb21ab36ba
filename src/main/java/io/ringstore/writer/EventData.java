package io.ringstore.writer;

import io.ringstore.error.RingStoreException;

/**
 * One event to append.
 *
 * @param eventId  16 bytes chosen by the client (makes retries idempotent), or null to have one generated
 * @param type     the event type, not empty
 * @param data     the payload
 * @param metadata optional metadata, may be empty
 */
public record EventData(byte[] eventId, String type, byte[] data, byte[] metadata) {
    public static final int EVENT_ID_LENGTH = 16;

    public EventData {
        if (eventId != null && eventId.length != EVENT_ID_LENGTH) {
            throw RingStoreException.invalid("event id must be 16 bytes: length=" + eventId.length);
        }
        if (type == null || type.isEmpty()) {
            throw RingStoreException.invalid("event type must not be empty");
        }
        if (data == null) {
            throw RingStoreException.invalid("event data must not be null (use an empty array)");
        }
        if (metadata == null) {
            metadata = new byte[0];
        }
    }

    public static EventData of(String type, byte[] data) {
        return new EventData(null, type, data, new byte[0]);
    }
}
