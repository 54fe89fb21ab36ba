package io.ringstore.writer;

import java.util.List;

/**
 * One entry of a multi-stream append: events for one stream, appended atomically with
 * consecutive versions if the stream's last version matches {@code expected}. Entries of one
 * multi-stream append are independent of each other (see {@code MultiAppendRequest} in
 * ringstore.proto).
 */
public record StreamAppend(String stream, ExpectedVersion expected, List<EventData> events) {
    public StreamAppend {
        events = events == null ? null : List.copyOf(events);
    }
}
