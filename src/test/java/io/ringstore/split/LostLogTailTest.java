package io.ringstore.split;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ringstore.checkpoint.StreamTableCheckpoint;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.Durability;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 defect 6: in {@code periodic} and {@code none} modes a power cut can take the log's
 * unforced tail while a stream file keeps those events; new appends then reuse their versions.
 * The splitter must not skip the new events as "already held": reads must return the new,
 * acknowledged events, never the lost ones.
 */
class LostLogTailTest {
    @TempDir
    Path dir;

    @Test
    void newEventsThatReuseLostVersionsReplaceTheLostOnesInTheStreamFile() throws Exception {
        // The new events have the lost ones' sizes, so they land at the lost ones' positions:
        // comparing positions alone (as the issue suggested) does not tell them apart.
        StoreConfig config = SplitterTestSupport.config(dir, () -> PressureReading.CALM)
                .withDurability(Durability.NONE);
        long lostFrom;
        try (RingStore store = RingStore.open(config)) {
            for (int v = 0; v < 5; v++) {
                store.append("s", ExpectedVersion.ANY, List.of(event("old-" + v))).join();
            }
            lostFrom = store.readStream("s", 2, 1, Direction.FORWARD).events().get(0).getPosition();
            SplitterTestSupport.await(store, () -> store.splitterStatus().lagEvents() == 0, "s split to its file");
        }
        // The cut: the log lost versions 2..4 (never forced in mode none), the checkpoints that
        // named them were never written; the stream file (synced by the splitter) kept 0..4.
        Path segment;
        try (Stream<Path> s = Files.list(config.logDir())) {
            segment = s.filter(p -> p.toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            long base = Long.parseLong(segment.getFileName().toString().substring(0, 20));
            long from = lostFrom - base;
            ch.write(ByteBuffer.allocate((int) (ch.size() - from)), from);
        }
        Files.deleteIfExists(config.checkpointDir().resolve(SplitterCheckpoint.FILE_NAME));
        Files.deleteIfExists(config.checkpointDir().resolve(StreamTableCheckpoint.FILE_NAME));

        try (RingStore store = RingStore.open(config)) {
            assertEquals(1, store.readStream("s", Long.MAX_VALUE, 1, Direction.BACKWARD).lastVersion(),
                    "the log lost versions 2..4");
            store.append("s", ExpectedVersion.exactly(1), List.of(event("new-2"), event("new-3"))).join();
            SplitterTestSupport.await(store, () -> store.splitterStatus().lagEvents() == 0, "s split again");
            List<LogRecord> read = store.readStream("s", 0, 10, Direction.FORWARD).events();
            assertEquals(4, read.size(), "versions 0..3");
            assertArrayEquals(bytes("new-2"), read.get(2).getData().toByteArray(), "version 2 is the new event");
            assertArrayEquals(bytes("new-3"), read.get(3).getData().toByteArray(), "version 3 is the new event");
        }
        try (RingStore store = RingStore.open(config.withSplitter(config.splitter().withRetention(0, 0)))) {
            // Once the log is reclaimed, only the stream file answers.
            List<LogRecord> read = store.readStream("s", 0, 10, Direction.FORWARD).events();
            assertEquals(4, read.size(), "versions 0..3 after a restart");
            assertArrayEquals(bytes("new-2"), read.get(2).getData().toByteArray(), "version 2 from the file");
        }
    }

    private static EventData event(String s) {
        return EventData.of("t", bytes(s));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
