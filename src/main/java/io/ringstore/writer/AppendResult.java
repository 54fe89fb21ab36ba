package io.ringstore.writer;

/**
 * A successful append.
 *
 * @param stream        the stream appended to
 * @param firstVersion  version of the first event appended
 * @param lastVersion   version of the last event appended (the stream's version after the append)
 * @param firstPosition log position of the first event
 * @param lastPosition  log position of the last event
 * @param durability    the mode that applied to this acknowledgement
 * @param replayed      true when the event ids had been appended before and this is the original result
 */
public record AppendResult(String stream, long firstVersion, long lastVersion, long firstPosition,
                           long lastPosition, Durability durability, boolean replayed) {}
