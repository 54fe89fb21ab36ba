package io.ringstore.writer;

/** Told by the writer when the log moved to a new segment, with the table exact at that position. */
@FunctionalInterface
public interface RollListener {
    void rolled(long position, StreamTable.Snapshot table, java.util.List<RecentEventIds.Entry> recentIds);
}
