package io.ringstore.retention;

import static io.ringstore.retention.StreamLimitsTest.append;
import static io.ringstore.retention.StreamLimitsTest.await;
import static io.ringstore.retention.StreamLimitsTest.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllReader;
import io.ringstore.read.AllSlice;
import io.ringstore.store.RingStore;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RingStore#readAll} on a real store: the same events a stream read returns, whether the
 * stream's events are still only in the log (splitter off) or split and compacted (splitter on,
 * after a restart); a page of large hidden events stops at the byte bound and moves on.
 */
class AllReadLimitsTest {
    @TempDir
    Path dir;

    /** Every page of $all from the start, as "stream@version". */
    private static List<String> allVisible(RingStore store) {
        List<String> out = new ArrayList<>();
        long position = 0;
        for (int pages = 0; ; pages++) {
            assertTrue(pages < 10_000, "paging $all does not end");
            AllSlice page = store.readAll(position, 7);
            page.records().forEach(r -> out.add(r.getStream() + "@" + r.getVersion()));
            if (page.end()) {
                return out;
            }
            assertTrue(page.next() > position, "a page moves on");
            position = page.next();
        }
    }

    /** What a stream read of each stream returns, merged back into log order, plus the metadata events. */
    private static List<String> visibleByStreamReads(RingStore store, List<String> streams) {
        List<LogRecord> records = new ArrayList<>();
        for (String s : streams) {
            if (!store.retention().deleted(s)) {
                records.addAll(store.readStream(s, 0, 4096, io.ringstore.read.Direction.FORWARD).events());
            }
        }
        long position = 0;
        while (true) {
            var batch = store.readLog(position, 4096);
            batch.records().stream().filter(r -> r.getStream().startsWith("$$")).forEach(records::add);
            if (batch.records().isEmpty()) {
                break;
            }
            position = batch.next();
        }
        records.sort(java.util.Comparator.comparingLong(LogRecord::getPosition));
        return records.stream().map(r -> r.getStream() + "@" + r.getVersion()).toList();
    }

    @Test
    void allReadsMatchStreamReadsUnsplitSplitAndAfterRestartAndBoundHiddenBytes() throws Exception {
        List<String> streams = List.of("count", "trunc", "free", "bulky");
        byte[] big = new byte[48 << 10];
        List<Long> bulky = new ArrayList<>();
        List<String> before;
        try (RingStore store = RingStore.open(config(dir, false))) {
            for (int i = 0; i < 4; i++) {
                append(store, "count", 10);
                append(store, "trunc", 10);
                append(store, "free", 1);
            }
            for (int i = 0; i < 100; i++) {
                bulky.add(store.append("bulky", ExpectedVersion.ANY, List.of(EventData.of("t", big))).join().firstPosition());
            }
            append(store, "free", 1);
            store.setLimits("count", new StreamLimits(10, StreamLimits.UNSET, StreamLimits.UNSET, false)).join();
            store.setLimits("trunc", new StreamLimits(StreamLimits.UNSET, StreamLimits.UNSET, 25, false)).join();
            store.deleteStream("bulky", false).join();
            before = allVisible(store);
            assertEquals(visibleByStreamReads(store, streams), before, "unsplit");
            assertEquals(10 + 15 + 5 + 3, before.size(), "count 10, trunc 15, free 5, three metadata events: " + before);
            assertTrue(before.contains("$$count@0") && before.contains("$$bulky@0"), "metadata events stay: " + before);

            // 100 hidden events of 48 KiB from here: the page stops at the byte bound, empty, and
            // moves past exactly what it skipped.
            AllSlice page = store.readAll(bulky.getFirst(), 10);
            assertEquals(List.of(), page.records());
            assertFalse(page.end());
            int expectHidden = (int) ((AllReader.MAX_HIDDEN_BYTES + big.length - 1) / big.length);
            assertTrue(page.hidden() >= expectHidden - 1 && page.hidden() <= expectHidden && page.hidden() < 100,
                    "hidden=" + page.hidden() + " expected about " + expectHidden);
            assertEquals(bulky.get(page.hidden()), page.next());
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            assertEquals(before, allVisible(store), "split, after restart");
            append(store, "count", 5);
            List<String> after = allVisible(store);
            assertEquals(visibleByStreamReads(store, streams), after, "the count limit slides");
            assertFalse(after.contains("count@34"), after.toString());
            assertTrue(after.contains("count@35") && after.contains("count@44"), after.toString());
        }
    }
}
