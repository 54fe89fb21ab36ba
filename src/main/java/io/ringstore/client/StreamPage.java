package io.ringstore.client;

import java.util.List;

/**
 * A page of one stream.
 *
 * @param events      in the order asked for
 * @param lastVersion the stream's last version when the read started
 * @param nextVersion where the next page starts, -1 when done
 * @param endOfStream whether this page reached the end
 */
public record StreamPage(List<RecordedEvent> events, long lastVersion, long nextVersion, boolean endOfStream) {}
