package io.ringstore.read;

import io.ringstore.log.proto.LogRecord;
import java.util.List;

/**
 * A page of one stream's events.
 *
 * @param stream       the stream read
 * @param events       events in the order asked for (ascending versions forward, descending backward)
 * @param lastVersion  the stream's last version when the read started
 * @param nextVersion  where the next page starts, or -1 when this page reached the end
 */
public record StreamSlice(String stream, List<LogRecord> events, long lastVersion, long nextVersion) {
    public boolean endOfStream() {
        return nextVersion < 0;
    }
}
