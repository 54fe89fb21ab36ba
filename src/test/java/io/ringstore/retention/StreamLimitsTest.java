package io.ringstore.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterOptions;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each limit kind on unsplit events (splitter off), then on split events (splitter on, the
 * compactor rewrites the file), then after a restart; soft and hard delete; prefix limits.
 */
class StreamLimitsTest {
    @TempDir
    Path dir;

    static StoreConfig config(Path dir, boolean splitter) {
        return StoreConfig.defaults(dir).withSegmentSize(256 << 10).withPressureGauge(() -> PressureReading.CALM)
                .withSplitter(SplitterOptions.defaults().withEnabled(splitter).withWindow(16 << 10, 20))
                .withRetention(RetentionOptions.defaults().withCompactInterval(20));
    }

    static void append(RingStore store, String stream, int n) {
        for (int i = 0; i < n; i++) {
            store.append(stream, ExpectedVersion.ANY, List.of(EventData.of("t", data(stream)))).join();
        }
    }

    /** About 300 bytes: a few dozen events make a file worth rewriting (see StreamCompactor.MIN_DROP_BYTES). */
    private static byte[] data(String stream) {
        return (stream + "-payload-" + "x".repeat(280)).getBytes(StandardCharsets.UTF_8);
    }

    static List<Long> versions(RingStore store, String stream) {
        List<Long> forward = store.readStream(stream, 0, 4096, Direction.FORWARD).events().stream()
                .map(LogRecord::getVersion).toList();
        List<Long> backward = store.readStream(stream, -1, 4096, Direction.BACKWARD).events().stream()
                .map(LogRecord::getVersion).toList().reversed();
        assertEquals(forward, backward, stream + ": forward and backward reads disagree");
        return forward;
    }

    static List<Long> range(long from, long toInclusive) {
        return LongStream.rangeClosed(from, toInclusive).boxed().toList();
    }

    static void await(RingStore store, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String first;
                try {
                    first = " first(soft)=" + fileFirstVersion(store, "soft") + " first(count)=" + fileFirstVersion(store, "count");
                } catch (Exception e) {
                    first = e.toString();
                }
                throw new AssertionError("timed out waiting for " + what + "; compactor " + store.compactor().stats() + first);
            }
            store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
        }
    }

    /** The first version the stream's file holds (after its header), -1 when there is no file. */
    static long fileFirstVersion(RingStore store, String stream) throws Exception {
        Path file = new StreamFiles(store.config().streamsDir(), 1, 1).pathFor(stream);
        if (!Files.exists(file)) {
            return -1;
        }
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
            return r.firstVersion();
        }
    }

    private static ErrorCode code(Throwable t) {
        Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return assertInstanceOf(RingStoreException.class, e).code();
    }

    @Test
    void countAndTruncateLimitsHoldOnUnsplitSplitAndAfterRestart() throws Exception {
        try (RingStore store = RingStore.open(config(dir, false))) {
            append(store, "count", 40);
            append(store, "trunc", 40);
            append(store, "free", 40);
            store.setLimits("count", new StreamLimits(10, StreamLimits.UNSET, StreamLimits.UNSET, false)).join();
            store.setLimits("trunc", new StreamLimits(StreamLimits.UNSET, StreamLimits.UNSET, 25, false)).join();
            assertEquals(range(30, 39), versions(store, "count"), "unsplit, count limit");
            assertEquals(range(25, 39), versions(store, "trunc"), "unsplit, truncate before");
            assertEquals(range(0, 39), versions(store, "free"));
            // Paging from before the limit starts at the limit; a read wholly past it is empty.
            StreamSlice page = store.readStream("count", 0, 3, Direction.FORWARD);
            assertEquals(List.of(30L, 31L, 32L), page.events().stream().map(LogRecord::getVersion).toList());
            assertEquals(33, page.nextVersion());
            assertTrue(store.readStream("count", 5, 10, Direction.BACKWARD).events().isEmpty());
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            assertEquals(range(30, 39), versions(store, "count"), "split, count limit (after restart)");
            assertEquals(range(25, 39), versions(store, "trunc"), "split, truncate before");
            await(store, () -> firstVersionIs(store, "count", 30) && firstVersionIs(store, "trunc", 25), "compaction");
            assertEquals(0, fileFirstVersion(store, "free"), "a stream without limits is not rewritten");
            assertEquals(range(30, 39), versions(store, "count"), "after the rewrite");
            // Versions keep counting; the count limit slides.
            AppendResult r = store.append("count", ExpectedVersion.exactly(39), List.of(EventData.of("t", data("count")))).join();
            assertEquals(40, r.firstVersion());
            assertEquals(range(31, 40), versions(store, "count"));
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            assertEquals(range(31, 40), versions(store, "count"), "restart: limit kept");
            assertEquals(range(25, 39), versions(store, "trunc"));
            assertEquals(10, store.retention().own("count").maxCount());
            // Truncation only moves up: a lower truncate_before keeps the current one.
            store.setLimits("trunc", new StreamLimits(StreamLimits.UNSET, StreamLimits.UNSET, 3, false)).join();
            assertEquals(range(25, 39), versions(store, "trunc"));
        }
    }

    private static boolean firstVersionIs(RingStore store, String stream, long v) {
        try {
            return fileFirstVersion(store, stream) == v;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void ageLimitHidesOldEventsOnUnsplitAndSplit() throws Exception {
        try (RingStore store = RingStore.open(config(dir, false))) {
            append(store, "aged", 20);
            long oldDone = System.nanoTime();
            // The age limit is about wall-clock time: let the first events grow old.
            while (System.nanoTime() - oldDone < TimeUnit.MILLISECONDS.toNanos(3_200)) {
                Thread.sleep(100);
            }
            store.setLimits("aged", new StreamLimits(StreamLimits.UNSET, 3, StreamLimits.UNSET, false)).join();
            // Five young events, read at once: all visible, the 20 old ones not. A round in which the
            // machine stalled for 2 s of the 3 s limit proves nothing about the young ones (they may
            // have aged out, even between the forward and the backward read): another round runs.
            boolean judged = false;
            for (int round = 0; round < 5 && !judged; round++) {
                long first = 20 + 5L * round;
                long started = System.nanoTime();
                append(store, "aged", 5);
                List<Long> forward = store.readStream("aged", 0, 4096, Direction.FORWARD).events().stream()
                        .map(LogRecord::getVersion).toList();
                List<Long> backward = store.readStream("aged", -1, 4096, Direction.BACKWARD).events().stream()
                        .map(LogRecord::getVersion).toList().reversed();
                assertTrue(forward.stream().allMatch(x -> x >= 20) && backward.stream().allMatch(x -> x >= 20),
                        "old events visible: " + forward + " " + backward);
                if (System.nanoTime() - started >= TimeUnit.SECONDS.toNanos(2)) {
                    continue;
                }
                judged = true;
                assertEquals(forward, backward, "forward and backward reads disagree");
                // Age hides a prefix: what is visible runs up to this round's last event, with all five of them.
                long from = forward.isEmpty() ? first : forward.getFirst();
                assertTrue(from >= 20 && from <= first, "unsplit, age limit: " + forward);
                assertEquals(range(from, first + 4), forward, "unsplit, age limit");
            }
            assertTrue(judged, "the machine stalled for 2 s in each of 5 rounds");
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            await(store, () -> firstVersionIs(store, "aged", 20) || firstVersionIs(store, "aged", 25), "compaction");
            List<Long> v = versions(store, "aged");
            // Within 3 s of the second batch all five remain; later, fewer; never an old one.
            assertTrue(v.stream().allMatch(x -> x >= 20), "old events visible: " + v);
            assertEquals(3, store.retention().own("aged").maxAgeSeconds());
        }
    }

    @Test
    void softDeleteHidesWhatWasThereAndTheStreamGoesOn() throws Exception {
        try (RingStore store = RingStore.open(config(dir, true))) {
            append(store, "soft", 10);
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            // A delete that expects another version deletes nothing and says what the version is.
            CompletionException stale = assertThrows(CompletionException.class,
                    () -> store.deleteStream("soft", false, ExpectedVersion.exactly(5)).join());
            assertEquals(9, assertInstanceOf(WrongExpectedVersionException.class, stale.getCause()).currentVersion());
            assertEquals(ErrorCode.WRONG_EXPECTED_VERSION, code(assertThrows(CompletionException.class,
                    () -> store.deleteStream("soft", true, ExpectedVersion.NO_STREAM).join())));
            assertEquals(range(0, 9), versions(store, "soft"));
            store.deleteStream("soft", false, ExpectedVersion.exactly(9)).join();
            StreamSlice empty = store.readStream("soft", 0, 100, Direction.FORWARD);
            assertTrue(empty.events().isEmpty());
            assertEquals(9, empty.lastVersion());
            AppendResult r = store.append("soft", ExpectedVersion.exactly(9), List.of(EventData.of("t", data("soft")))).join();
            assertEquals(10, r.firstVersion(), "versions continue after a soft delete");
            assertEquals(List.of(10L), versions(store, "soft"));
            await(store, () -> firstVersionIs(store, "soft", 10), "soft-deleted events removed from the file");
            assertEquals(ErrorCode.STREAM_NOT_FOUND, code(assertThrows(CompletionException.class,
                    () -> store.deleteStream("never-written", false).join())));
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            assertEquals(List.of(10L), versions(store, "soft"), "after restart");
        }
    }

    @Test
    void hardDeleteIsATombstone() throws Exception {
        try (RingStore store = RingStore.open(config(dir, true))) {
            append(store, "hard", 10);
            append(store, "kept", 3);
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            store.deleteStream("hard", true).join();
            assertEquals(ErrorCode.STREAM_DELETED, code(assertThrows(RingStoreException.class,
                    () -> store.readStream("hard", 0, 10, Direction.FORWARD))));
            assertEquals(ErrorCode.STREAM_DELETED, code(assertThrows(CompletionException.class,
                    () -> store.append("hard", ExpectedVersion.ANY, List.of(EventData.of("t", data("hard")))).join())));
            assertEquals(ErrorCode.STREAM_DELETED, code(assertThrows(CompletionException.class,
                    () -> store.setLimits("hard", new StreamLimits(5, StreamLimits.UNSET, StreamLimits.UNSET, false)).join())));
            await(store, () -> firstVersionIsMissing(store, "hard"), "the deleted stream's file removed");
            assertEquals(range(0, 2), versions(store, "kept"));
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            assertEquals(ErrorCode.STREAM_DELETED, code(assertThrows(CompletionException.class,
                    () -> store.append("hard", ExpectedVersion.ANY, List.of(EventData.of("t", data("hard")))).join())),
                    "the tombstone survives a restart");
            assertEquals(ErrorCode.STREAM_DELETED, code(assertThrows(RingStoreException.class,
                    () -> store.readStream("hard", 0, 10, Direction.FORWARD))));
            assertEquals(range(0, 2), versions(store, "kept"));
        }
    }

    private static boolean firstVersionIsMissing(RingStore store, String stream) {
        try {
            return fileFirstVersion(store, stream) == -1;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void badLimitsAreRefusedAndLeaveEventsAlone() throws Exception {
        try (RingStore store = RingStore.open(config(dir, true))) {
            append(store, "x", 5);
            assertEquals(ErrorCode.INVALID_REQUEST, assertThrows(RingStoreException.class,
                    () -> new StreamLimits(0, StreamLimits.UNSET, StreamLimits.UNSET, false)).code());
            assertEquals(ErrorCode.INVALID_REQUEST, code(assertThrows(CompletionException.class,
                    () -> store.setLimits("$x", new StreamLimits(1, StreamLimits.UNSET, StreamLimits.UNSET, false)).join())));
            assertEquals(ErrorCode.INVALID_REQUEST, code(assertThrows(CompletionException.class,
                    () -> store.deleteStream("", true).join())));
            assertEquals(range(0, 4), versions(store, "x"));
            assertFalse(store.retention().deleted("x"));
        }
    }

    @Test
    void prefixLimitsFromTheConfigApplyToEveryMatchingStream() throws Exception {
        RetentionOptions options = RetentionOptions.defaults().withCompactInterval(20)
                .withPrefixes(RetentionOptions.parsePrefixes("sensor-: max_count=5; sensor-hall-: max_count=2"));
        try (RingStore store = RingStore.open(config(dir, true).withRetention(options))) {
            append(store, "sensor-1", 12);
            append(store, "sensor-hall-1", 12);
            append(store, "other", 12);
            assertEquals(range(7, 11), versions(store, "sensor-1"));
            assertEquals(range(10, 11), versions(store, "sensor-hall-1"), "the longest prefix wins");
            assertEquals(range(0, 11), versions(store, "other"));
            // A stream's own limit wins over its prefix's (a tighter one here: a looser one cannot
            // bring back events the compactor may already have removed).
            store.setLimits("sensor-1", new StreamLimits(3, StreamLimits.UNSET, StreamLimits.UNSET, false)).join();
            assertEquals(range(9, 11), versions(store, "sensor-1"));
        }
        assertThrows(IllegalArgumentException.class, () -> RetentionOptions.parsePrefixes("sensor-: max_count=0"));
        assertThrows(IllegalArgumentException.class, () -> RetentionOptions.parsePrefixes("sensor- max_count=3"));
        assertThrows(IllegalArgumentException.class, () -> RetentionOptions.parsePrefixes("a-: max_age=soon"));
    }
}
