package io.ringstore.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.read.AllSlice;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.Durability;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RingStoreTest {
    @TempDir
    Path dir;

    private StoreConfig config() {
        return StoreConfig.defaults(dir).withSegmentSize(64 << 10);
    }

    private static EventData event(String text) {
        return EventData.of("test", text.getBytes(StandardCharsets.UTF_8));
    }

    private static RingStoreException failure(Runnable r) {
        CompletionException e = assertThrows(CompletionException.class, r::run);
        return assertInstanceOf(RingStoreException.class, e.getCause());
    }

    @Test
    void appendsAreReadBackInOrderWithVersionsAndPositions() throws Exception {
        try (RingStore store = RingStore.open(config())) {
            AppendResult a = store.append("a", ExpectedVersion.NO_STREAM, List.of(event("a0"), event("a1"))).join();
            AppendResult b = store.append("b", ExpectedVersion.ANY, List.of(event("b0"))).join();
            assertEquals(0, a.firstVersion());
            assertEquals(1, a.lastVersion());
            assertEquals(Durability.SYNC, a.durability());
            assertEquals(0, b.firstVersion());
            assertTrue(b.firstPosition() > a.lastPosition());

            AllSlice all = store.readAll(0, 100);
            assertEquals(3, all.records().size());
            assertEquals("a0", all.records().get(0).getData().toStringUtf8());
            assertEquals("a1", all.records().get(1).getData().toStringUtf8());
            assertEquals(1, all.records().get(1).getVersion());
            assertEquals("b", all.records().get(2).getStream());
            assertEquals(a.firstPosition(), all.records().get(0).getPosition());
            assertEquals(16, all.records().get(0).getEventId().size());

            LogRecord fromMiddle = store.readAll(b.firstPosition(), 10).records().getFirst();
            assertEquals("b0", fromMiddle.getData().toStringUtf8());
            assertThrows(IllegalArgumentException.class, () -> store.readAll(a.firstPosition() + 8, 1));
        }
    }

    @Test
    void expectedVersionCases() throws Exception {
        try (RingStore store = RingStore.open(config())) {
            RingStoreException e = failure(() -> store.append("s", ExpectedVersion.STREAM_EXISTS, List.of(event("x"))).join());
            assertEquals(ErrorCode.WRONG_EXPECTED_VERSION, e.code());
            assertEquals(-1, ((WrongExpectedVersionException) e).currentVersion());

            store.append("s", ExpectedVersion.NO_STREAM, List.of(event("0"))).join();
            e = failure(() -> store.append("s", ExpectedVersion.NO_STREAM, List.of(event("x"))).join());
            assertEquals(0, ((WrongExpectedVersionException) e).currentVersion());

            store.append("s", ExpectedVersion.exactly(0), List.of(event("1"))).join();
            e = failure(() -> store.append("s", ExpectedVersion.exactly(0), List.of(event("x"))).join());
            assertEquals(1, ((WrongExpectedVersionException) e).currentVersion());
            assertTrue(e.getMessage().contains("current=1"), e.getMessage());

            assertEquals(2, store.append("s", ExpectedVersion.STREAM_EXISTS, List.of(event("2"))).join().firstVersion());
            assertEquals(3, store.append("s", ExpectedVersion.ANY, List.of(event("3"))).join().firstVersion());
            assertEquals(4, store.readAll(0, 100).records().size(), "failed appends must not be stored");
        }
    }

    @Test
    void retryWithSameEventIdsReturnsOriginalResult() throws Exception {
        byte[] id1 = new byte[16];
        byte[] id2 = new byte[16];
        id1[0] = 1;
        id2[0] = 2;
        List<EventData> events = List.of(new EventData(id1, "t", new byte[] {1}, null),
                new EventData(id2, "t", new byte[] {2}, null));
        try (RingStore store = RingStore.open(config())) {
            AppendResult first = store.append("s", ExpectedVersion.NO_STREAM, events).join();
            AppendResult retry = store.append("s", ExpectedVersion.NO_STREAM, events).join();
            assertFalse(first.replayed());
            assertTrue(retry.replayed());
            assertEquals(first.firstPosition(), retry.firstPosition());
            assertEquals(first.lastPosition(), retry.lastPosition());
            assertEquals(first.lastVersion(), retry.lastVersion());
            assertEquals(2, store.readAll(0, 100).records().size(), "a retry must not duplicate");

            RingStoreException partial = failure(() -> store.append("s", ExpectedVersion.ANY,
                    List.of(new EventData(id1, "t", new byte[] {1}, null), event("new"))).join());
            assertEquals(ErrorCode.EVENT_ID_CONFLICT, partial.code());
        }
        // Across a restart, the recovered tail still knows the ids.
        try (RingStore store = RingStore.open(config())) {
            AppendResult retry = store.append("s", ExpectedVersion.NO_STREAM, events).join();
            assertTrue(retry.replayed());
            assertEquals(2, store.readAll(0, 100).records().size());
        }
    }

    @Test
    void rollsOverSegmentsAndRecoversAfterRestart() throws Exception {
        List<AppendResult> results = new ArrayList<>();
        byte[] payload = new byte[1000];
        try (RingStore store = RingStore.open(config())) {
            for (int i = 0; i < 300; i++) {
                payload[0] = (byte) i;
                results.add(store.append("s" + (i % 7), ExpectedVersion.ANY,
                        List.of(new EventData(null, "t", payload.clone(), null))).join());
            }
        }
        long segments;
        try (var files = Files.list(dir.resolve("log"))) {
            segments = files.filter(p -> p.toString().endsWith(".seg")).count();
        }
        assertTrue(segments >= 4, "expected several segments, got " + segments);
        try (RingStore store = RingStore.open(config())) {
            assertEquals(0, store.recovery().recordsScanned(), "a clean stop leaves nothing to scan");
            List<LogRecord> all = new ArrayList<>();
            long pos = 0;
            while (true) {
                AllSlice b = store.readAll(pos, 50);
                if (b.records().isEmpty()) {
                    break;
                }
                all.addAll(b.records());
                pos = b.next();
            }
            assertEquals(300, all.size());
            for (int i = 0; i < 300; i++) {
                assertEquals(results.get(i).firstPosition(), all.get(i).getPosition());
                assertEquals((byte) i, all.get(i).getData().byteAt(0));
                assertEquals(i / 7, all.get(i).getVersion());
            }
            AppendResult next = store.append("s0", ExpectedVersion.ANY, List.of(event("after"))).join();
            assertEquals(300 / 7 + 1, next.firstVersion());
        }
    }

    @Test
    void secondStoreOnSameFolderIsRefused() throws Exception {
        try (RingStore store = RingStore.open(config())) {
            assertThrows(DataDirLock.LockedException.class, () -> RingStore.open(config()));
        }
    }

    @Test
    void durabilityModesAreStatedInTheAck() throws Exception {
        for (Durability d : Durability.values()) {
            Path sub = dir.resolve(d.name());
            try (RingStore store = RingStore.open(StoreConfig.defaults(sub).withSegmentSize(64 << 10).withDurability(d))) {
                AppendResult r = store.append("s", ExpectedVersion.ANY, List.of(event("x"))).join();
                assertEquals(d, r.durability());
                assertEquals(1, store.readAll(0, 10).records().size());
            }
            try (RingStore store = RingStore.open(StoreConfig.defaults(sub).withSegmentSize(64 << 10))) {
                assertEquals(1, store.readAll(0, 10).records().size(), d + ": a clean stop forces");
            }
        }
    }

    @Test
    void badInputIsATypedErrorAndStoresNothing() throws Exception {
        try (RingStore store = RingStore.open(config())) {
            assertEquals(ErrorCode.INVALID_REQUEST, failure(() -> store.append("", ExpectedVersion.ANY, List.of(event("x"))).join()).code());
            assertEquals(ErrorCode.INVALID_REQUEST, failure(() -> store.append("s", ExpectedVersion.ANY, List.of()).join()).code());
            assertEquals(ErrorCode.FRAME_TOO_LARGE, failure(() -> store.append("s", ExpectedVersion.ANY,
                    List.of(EventData.of("t", new byte[100 << 10]))).join()).code());
            assertEquals(0, store.readAll(0, 10).records().size());
            assertArrayEquals(new byte[] {7}, store.append("s", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {7})))
                    .join() != null ? new byte[] {7} : null);
        }
    }

    /** Issue 14 item 4: the LED thread asked for status after close and died of NoSuchElementException. */
    @Test
    void statusAfterCloseIsTheLastStatusWithTheSplitterStopped() throws Exception {
        RingStore store = RingStore.open(config());
        store.append("door", ExpectedVersion.NO_STREAM, List.of(event("opened"))).join();
        StoreStatus open = store.status();
        store.close();
        StoreStatus closed = store.status();
        assertEquals(open.committedPosition(), closed.committedPosition());
        assertEquals(open.oldestPosition(), closed.oldestPosition());
        assertEquals(1, closed.streams());
        assertEquals(1, closed.writer().events());
        assertEquals(io.ringstore.split.SplitterState.STOPPED, closed.splitter().state());
        assertEquals(io.ringstore.split.SplitterState.STOPPED, store.splitterStatus().state());
        assertEquals(0, store.splitterStatus().lagEvents(), "a clean stop drains the splitter");
    }
}
