package io.ringstore.read;

import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves {@code $all} reads (the read_all request and every subscription) on the caller's
 * thread: the main log in position order, less the events a stream read of the same stream
 * would not return at that moment. Events past a stream's retention limits stay in log segments
 * until retention reclaims those segments (an hour or more later); without this a {@code $all}
 * reader would see them long after every stream read had stopped returning them. The decision is
 * {@link StreamReader#window} and {@link StreamVisibility.Window#shows}, the very rule stream
 * reads apply. Metadata events ({@code $$stream}) have no limits and always pass: they are the
 * durable record of the limits and travel with the data.
 *
 * <p>Work per page is bounded: a page stops once it has skipped {@link #MAX_HIDDEN_RECORDS}
 * hidden records or {@link #MAX_HIDDEN_BYTES} of them, and then holds fewer events than asked,
 * possibly none, with a next position past everything it skipped. A reader paging on (or a
 * subscription catching up) therefore always moves forward and never skips a visible event,
 * however long a run of hidden events is.
 */
public final class AllReader {
    /** Hidden records one page may skip before it returns what it has. */
    public static final int MAX_HIDDEN_RECORDS = 4096;
    /** Bytes (protobuf bodies) of hidden records one page may skip before it returns what it has. */
    public static final long MAX_HIDDEN_BYTES = 4L << 20;
    /** Records decoded per log read: bounds what a page decodes beyond what it returns or may skip. */
    private static final int CHUNK = 1024;

    private final MainLog log;
    private final StreamReader streams;

    public AllReader(MainLog log, StreamReader streams) {
        this.log = log;
        this.streams = streams;
    }

    /**
     * Reads up to {@code maxCount} visible records from {@code from} (the position of a record, or
     * 0 for the start of what is stored), never past the committed position.
     *
     * @throws io.ringstore.log.PositionReclaimedException when retention deleted that position
     * @throws IllegalArgumentException when no record starts at {@code from}
     */
    public AllSlice read(long from, int maxCount) {
        if (maxCount < 1) {
            throw RingStoreException.invalid("count must be >= 1: " + maxCount);
        }
        long nowMicros = System.currentTimeMillis() * 1_000;
        // One window per stream per page: the same moment for every event of the page, and the
        // table and tail index asked once per stream rather than once per event.
        Map<String, StreamVisibility.Window> windows = new HashMap<>();
        List<LogRecord> out = new ArrayList<>(Math.min(maxCount, CHUNK));
        int hidden = 0;
        long hiddenBytes = 0;
        long position = from;
        while (true) {
            int ask = Math.min(Math.min(maxCount - out.size(), CHUNK), MAX_HIDDEN_RECORDS - hidden);
            MainLog.ReadBatch batch = log.read(position, ask);
            List<LogRecord> records = batch.records();
            for (int i = 0; i < records.size(); i++) {
                LogRecord r = records.get(i);
                StreamVisibility.Window w = windows.computeIfAbsent(r.getStream(), s -> streams.window(s, nowMicros));
                if (w.shows(r.getVersion(), r.getTimestampMicros())) {
                    out.add(r);
                    if (out.size() == maxCount) {
                        return new AllSlice(out, nextAfter(batch, i), false, hidden);
                    }
                } else {
                    hidden++;
                    hiddenBytes += r.getSerializedSize();
                    if (hidden >= MAX_HIDDEN_RECORDS || hiddenBytes >= MAX_HIDDEN_BYTES) {
                        return new AllSlice(out, nextAfter(batch, i), false, hidden);
                    }
                }
            }
            position = batch.next();
            if (records.size() < ask) {
                // The log read stopped at the committed position.
                return new AllSlice(out, position, true, hidden);
            }
        }
    }

    /** The position after record {@code i} of the batch: the next record's, or where the batch ended. */
    private static long nextAfter(MainLog.ReadBatch batch, int i) {
        List<LogRecord> records = batch.records();
        return i + 1 < records.size() ? records.get(i + 1).getPosition() : batch.next();
    }
}
