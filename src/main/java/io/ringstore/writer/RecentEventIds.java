package io.ringstore.writer;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The event ids of the most recent appends, so that a producer retrying an append whose
 * acknowledgement it did not see gets the original result instead of a duplicate. Bounded: the
 * idempotency window is the last {@code capacity} events (in this run, plus the log tail scanned
 * at start-up). Writer thread only.
 */
public final class RecentEventIds {
    /** Where an event id was written. */
    record Written(String stream, long version, long position) {}

    /** One remembered id, as carried by a checkpoint. */
    public record Entry(byte[] eventId, String stream, long version, long position) {}

    private final LinkedHashMap<ByteBuffer, Written> byId;

    RecentEventIds(int capacity) {
        this.byId = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Written> eldest) {
                return size() > capacity;
            }
        };
    }

    Written get(byte[] eventId) {
        return byId.get(ByteBuffer.wrap(eventId));
    }

    void put(byte[] eventId, String stream, long version, long position) {
        byId.put(ByteBuffer.wrap(eventId.clone()), new Written(stream, version, position));
    }

    void remove(byte[] eventId) {
        byId.remove(ByteBuffer.wrap(eventId));
    }

    int size() {
        return byId.size();
    }

    /** The remembered ids, oldest first (a copy: safe to hand to another thread). */
    java.util.List<Entry> snapshot() {
        java.util.List<Entry> out = new java.util.ArrayList<>(byId.size());
        byId.forEach((id, w) -> out.add(new Entry(id.array(), w.stream(), w.version(), w.position())));
        return out;
    }
}
