package io.ringstore.store;

import io.ringstore.writer.WriterStats;

/**
 * What the store reports about itself (status command, status line, LEDs).
 *
 * @param committedPosition position after the last acknowledged record
 * @param oldestPosition    first position still stored in the main log
 * @param segments          main-log segment files
 * @param rolls             main-log segment rolls since the store opened
 * @param rollsRecycled     of those, rolls into the recycled spare segment (no new file allocated)
 * @param streams           streams known to the writer
 * @param writer            the writer's counters
 * @param splitter          the splitter's state and lag
 * @param ack               the ack mode, solo or paired, and what waits for the standbys
 * @param replication       role, epoch and how the standbys (or the primary) stand; null without replication
 */
public record StoreStatus(long committedPosition, long oldestPosition, int segments, long rolls, long rollsRecycled,
                          int streams, WriterStats writer,
                          io.ringstore.split.SplitterStatus splitter, io.ringstore.writer.AckStatus ack,
                          io.ringstore.replication.ReplicationSummary replication) {}
