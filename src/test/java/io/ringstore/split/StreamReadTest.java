package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.append;
import static io.ringstore.split.SplitterTestSupport.await;
import static io.ringstore.split.SplitterTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import com.google.protobuf.ByteString;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamReadTest {
    @TempDir
    Path dir;

    private static void assertVersions(StreamSlice slice, long... versions) {
        assertEquals(versions.length, slice.events().size(), "events: " + slice.events().stream().map(LogRecord::getVersion).toList());
        for (int i = 0; i < versions.length; i++) {
            LogRecord r = slice.events().get(i);
            assertEquals(versions[i], r.getVersion());
            assertEquals(slice.stream() + "#" + versions[i], r.getData().toStringUtf8());
        }
    }

    @Test
    void readsForwardBackwardAndPagedAcrossFileAndTail() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        try (RingStore store = RingStore.open(config(dir, gauge))) {
            for (int v = 0; v < 10; v++) {
                append(store, "a", v);
                append(store, "b", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            assertTrue(Files.exists(store.config().streamsDir()), "stream files written");
            // Now hold the splitter so the next events stay in the tail.
            gauge.high();
            store.splitter().wake();
            await(store, () -> store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE, "pause");
            for (int v = 10; v < 15; v++) {
                append(store, "a", v);
            }
            StreamSlice all = store.readStream("a", 0, 100, Direction.FORWARD);
            assertVersions(all, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
            assertEquals(14, all.lastVersion());
            assertTrue(all.endOfStream());

            StreamSlice page = store.readStream("a", 8, 4, Direction.FORWARD);
            assertVersions(page, 8, 9, 10, 11);
            assertEquals(12, page.nextVersion());

            StreamSlice back = store.readStream("a", -1, 6, Direction.BACKWARD);
            assertVersions(back, 14, 13, 12, 11, 10, 9);
            assertEquals(8, back.nextVersion());
            StreamSlice backEnd = store.readStream("a", 1, 5, Direction.BACKWARD);
            assertVersions(backEnd, 1, 0);
            assertTrue(backEnd.endOfStream());

            assertVersions(store.readStream("b", 0, 100, Direction.FORWARD), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            assertEquals(0, store.readStream("a", 15, 10, Direction.FORWARD).events().size(), "past the end: empty");

            RingStoreException e = assertThrows(RingStoreException.class,
                    () -> store.readStream("never", 0, 10, Direction.FORWARD));
            assertEquals(ErrorCode.STREAM_NOT_FOUND, e.code());

            gauge.calm();
            store.splitter().wake();
            await(store, () -> store.splitterStatus().lagEvents() == 0, "catch up");
            assertVersions(store.readStream("a", 0, 100, Direction.FORWARD), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        }
        // After a restart: everything from the files.
        try (RingStore store = RingStore.open(config(dir, new ControlledGauge()))) {
            assertEquals(0, store.splitterStatus().lagEvents());
            assertVersions(store.readStream("a", 0, 100, Direction.FORWARD), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
            append(store, "a", 15);
            assertVersions(store.readStream("a", 13, 100, Direction.FORWARD), 13, 14, 15);
        }
    }

    @Test
    void eventsLargerThanTheReadBufferComeBackWhole() throws Exception {
        // A stream file's reader takes a buffer as large as the file (8 KiB to 64 KiB) and grows it
        // for a larger frame: events from 0 bytes to well past 64 KiB, in the file and in the tail.
        int[] sizes = {0, 9_000, 70_000, 300, 150_000, 5, 8_180, 65_536};
        ControlledGauge gauge = new ControlledGauge();
        try (RingStore store = RingStore.open(config(dir, gauge))) {
            for (int v = 0; v < sizes.length; v++) {
                store.append("big", v == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(v - 1),
                        List.of(EventData.of("t", payload(v, sizes[v])))).join();
                if (v == 5) {
                    await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
                    gauge.high(); // the rest stay in the log tail
                    store.splitter().wake();
                    await(store, () -> store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE, "pause");
                }
            }
            for (int from = 0; from < sizes.length; from++) {
                List<LogRecord> got = store.readStream("big", from, 100, Direction.FORWARD).events();
                assertEquals(sizes.length - from, got.size());
                for (LogRecord r : got) {
                    assertEquals(ByteString.copyFrom(payload((int) r.getVersion(), sizes[(int) r.getVersion()])), r.getData(),
                            "version " + r.getVersion());
                }
            }
            gauge.calm();
            store.splitter().wake();
            await(store, () -> store.splitterStatus().lagEvents() == 0, "catch up");
            List<LogRecord> all = store.readStream("big", 0, 100, Direction.FORWARD).events();
            assertEquals(sizes.length, all.size());
            for (LogRecord r : all) {
                assertEquals(ByteString.copyFrom(payload((int) r.getVersion(), sizes[(int) r.getVersion()])), r.getData());
            }
        }
    }

    private static byte[] payload(int version, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + version);
        }
        return b;
    }

    @Test
    void aDeletedStreamFileIsRebuiltFromTheLog() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        try (RingStore store = RingStore.open(config(dir, gauge))) {
            for (int v = 0; v < 20; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            Path file = new StreamFiles(store.config().streamsDir(), 1, 1).pathFor("victim");
            assertTrue(Files.exists(file));
            // Damage: cut the file in the middle of its frames.
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() / 2);
            }
            StreamSlice slice = store.readStream("victim", 0, 100, Direction.FORWARD);
            assertEquals(20, slice.events().size());
            for (int v = 0; v < 20; v++) {
                assertEquals(v, slice.events().get(v).getVersion());
            }
            // The rebuilt file serves the next read on its own.
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".damaged"));
            assertEquals(20, store.readStream("victim", 0, 100, Direction.FORWARD).events().size());
        }
    }

    @Test
    void theNumberOfOpenStreamFilesIsBounded() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        var config = config(dir, gauge);
        config = config.withSplitter(config.splitter().withMaxOpenFiles(8));
        try (RingStore store = RingStore.open(config)) {
            for (int round = 0; round < 3; round++) {
                for (int s = 0; s < 200; s++) {
                    append(store, "s" + s, round);
                }
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            assertTrue(store.splitterStatus().openFiles() <= 8, "open files " + store.splitterStatus().openFiles());
            for (int s = 0; s < 200; s += 37) {
                assertEquals(3, store.readStream("s" + s, 0, 10, Direction.FORWARD).events().size());
            }
            long folders;
            try (var list = Files.list(store.config().streamsDir())) {
                folders = list.count();
            }
            assertTrue(folders > 1 && folders <= 256, "fan-out folders: " + folders);
        }
    }

    @Test
    void retentionReclaimsSplitSegmentsAndAllReadsSayWhatIsLeft() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        var config = config(dir, gauge).withSegmentSize(64 << 10);
        config = config.withSplitter(config.splitter().withRetention(0, 0));
        try (RingStore store = RingStore.open(config)) {
            byte[] big = new byte[900];
            for (int v = 0; v < 300; v++) {
                store.append("r", v == 0 ? io.ringstore.writer.ExpectedVersion.NO_STREAM
                        : io.ringstore.writer.ExpectedVersion.exactly(v - 1),
                        List.of(io.ringstore.writer.EventData.of("t", big))).join();
            }
            await(store, () -> store.status().oldestPosition() > 64, "retention to reclaim a segment");
            long oldest = store.status().oldestPosition();
            RingStoreException e = assertThrows(RingStoreException.class, () -> store.readAll(64 + 8, 10));
            assertEquals(ErrorCode.POSITION_RECLAIMED, e.code());
            assertTrue(e.getMessage().contains("oldestAvailable=" + oldest) || e.getMessage().contains("oldestAvailable="),
                    e.getMessage());
            // The stream is whole: the reclaimed part lives in its file.
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            StreamSlice slice = store.readStream("r", 0, 1000, Direction.FORWARD);
            assertEquals(300, slice.events().size());
            assertInstanceOf(List.class, store.readAll(0, 10).records(), "0 still means: from the oldest");
        }
    }
}
