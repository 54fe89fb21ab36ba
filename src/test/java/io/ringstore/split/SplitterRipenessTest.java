package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.append;
import static io.ringstore.split.SplitterTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The splitter moves a stream once it holds its ripe size, or once its oldest unsplit event has
 * waited a window; not before (that is what keeps its writes few and large), and reads see
 * every event meanwhile.
 */
class SplitterRipenessTest {
    private static final long WINDOW_MILLIS = 5_000;

    @TempDir
    Path dir;

    @Test
    void aStreamMovesOnceItHoldsEnoughBytesOrHasWaitedAWindow() throws Exception {
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(256 << 10)
                .withPressureGauge(new ControlledGauge())
                .withSplitter(SplitterOptions.defaults().withWindow(4096, WINDOW_MILLIS));
        StreamFiles files = new StreamFiles(config.streamsDir(), 1, 1);
        try (RingStore store = RingStore.open(config)) {
            List<EventData> big = new ArrayList<>();
            for (int v = 0; v < 64; v++) {
                big.add(EventData.of("t", new byte[100])); // 64 x ~150 B of log: past 4 KiB at once
            }
            store.append("big", ExpectedVersion.NO_STREAM, big).join();
            long sparseAt = System.nanoTime();
            append(store, "sparse", 0);

            await(store, () -> store.splitterStatus().lagEvents() == 1, "the big stream to move");
            double waited = (System.nanoTime() - sparseAt) / 1e9;
            assertTrue(waited < WINDOW_MILLIS / 1000.0, "test precondition: the check came within the window");
            assertTrue(Files.exists(files.pathFor("big")), "the ripe stream has its file");
            assertFalse(Files.exists(files.pathFor("sparse")), "the sparse stream waits for its window");
            assertEquals(1, store.readStream("sparse", 0, 10, Direction.FORWARD).events().size(),
                    "an unsplit event is read from the log");

            await(store, () -> store.splitterStatus().lagEvents() == 0, "the sparse stream's window");
            double moved = (System.nanoTime() - sparseAt) / 1e9;
            assertTrue(moved >= WINDOW_MILLIS / 1000.0 - 0.1, "moved after " + moved + " s, before its window");
            assertTrue(Files.exists(files.pathFor("sparse")));
            assertEquals(64, store.readStream("big", 0, 100, Direction.FORWARD).events().size());
            assertEquals(1, store.readStream("sparse", 0, 10, Direction.FORWARD).events().size());
            assertEquals(store.committedPosition(), store.splitterStatus().position(),
                    "nothing unsplit: the checkpoint is at the end of the log");
        }
    }

    @Test
    void pastTheEventsBoundTheStreamsHoldingTheMostMoveFirstAndOnlyEnoughToGetUnder() throws Exception {
        // Nothing ripens on its own here (1 MiB, a minute): only the 100-event bound moves anything.
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(256 << 10)
                .withPressureGauge(new ControlledGauge())
                .withSplitter(SplitterOptions.defaults().withWindow(1 << 20, 60_000).withMaxLagEvents(100));
        StreamFiles files = new StreamFiles(config.streamsDir(), 1, 1);
        try (RingStore store = RingStore.open(config)) {
            for (int s = 0; s < 20; s++) {
                for (int v = 0; v < 5; v++) {
                    append(store, "small-" + s, v);
                }
            }
            List<EventData> big = new ArrayList<>();
            for (int v = 0; v < 30; v++) {
                big.add(EventData.of("t", new byte[10]));
            }
            store.append("big", ExpectedVersion.NO_STREAM, big).join(); // 130 unsplit: over the bound

            await(store, () -> Files.exists(files.pathFor("big")), "the biggest stream to move");
            await(store, () -> store.splitterStatus().lagEvents() <= 100, "back under the bound");
            long left = store.splitterStatus().lagEvents();
            assertTrue(left >= 80, "moved far more than needed to get under the bound: " + left + " left");
            long smallMoved = 0;
            for (int s = 0; s < 20; s++) {
                if (Files.exists(files.pathFor("small-" + s))) {
                    smallMoved++;
                }
                assertEquals(5, store.readStream("small-" + s, 0, 10, Direction.FORWARD).events().size());
            }
            assertTrue(smallMoved <= 4, smallMoved + " small streams moved; the big one alone nearly suffices");
            assertEquals(30, store.readStream("big", 0, 100, Direction.FORWARD).events().size());
        }
    }
}
