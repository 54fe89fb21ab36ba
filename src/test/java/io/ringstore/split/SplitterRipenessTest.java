package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.append;
import static io.ringstore.split.SplitterTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.ForwardingStorageIo;
import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

    /**
     * Streams ripening all the time (4 KiB windows, 512 streams appended to as fast as the writer
     * takes them: a MiB ripens many times a second) start a pass early at most every
     * {@link Splitter#MIN_EARLY_PASS_MILLIS}, plus the once-a-second tick: each pass ends in a
     * sync, and fewer, larger passes write less. With
     * a pass for every MiB that ripened (the old rule) this machine ran several times as many.
     * Failure model: none injected; what could fail is the pass count (too many) or an event
     * not read back.
     */
    @Test
    void ripeStreamsStartAPassAtMostEveryQuarterSecond() throws Exception {
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(4 << 20)
                .withPressureGauge(new ControlledGauge())
                .withSplitter(SplitterOptions.defaults().withWindow(4096, 60_000)); // tick: 1 s
        int streams = 512;
        try (RingStore store = RingStore.open(config)) {
            long[] versions = new long[streams];
            long passesBefore = store.splitterStatus().windows();
            long start = System.nanoTime();
            long stop = start + 2_000_000_000L;
            while (System.nanoTime() < stop) {
                List<CompletableFuture<?>> round = new ArrayList<>();
                for (int s = 0; s < streams; s++) {
                    round.add(store.append("ripe-" + s, versions[s] == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(versions[s] - 1),
                            List.of(EventData.of("t", new byte[200]))));
                    versions[s]++;
                }
                round.forEach(CompletableFuture::join);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long passes = store.splitterStatus().windows() - passesBefore;
            long appended = 0;
            for (long v : versions) {
                appended += v;
            }
            // 4 early passes a second and one tick, each rounded up, and one pass under way.
            long most = (long) Math.ceil(seconds * 1000 / Splitter.MIN_EARLY_PASS_MILLIS) + (long) Math.ceil(seconds) + 2;
            assertTrue(passes <= most, passes + " passes in " + seconds + " s (" + appended
                    + " events of 200 B, " + streams + " streams): early passes come more often than every "
                    + Splitter.MIN_EARLY_PASS_MILLIS + " ms");
            assertTrue(passes >= 1 && store.splitterStatus().eventsSplit() > 0,
                    "test precondition: streams ripened and moved while appending (" + passes + " passes)");
            for (int s = 0; s < streams; s++) {
                assertEquals(versions[s], store.readStream("ripe-" + s, 0, (int) versions[s] + 1, Direction.FORWARD)
                        .events().size(), "ripe-" + s + " reads back whole");
            }
        }
    }

    /**
     * On storage whose syncs are slow (a card), a calm catch-up moves its backlog in passes of
     * about {@link Splitter#PRESSED_PASS_BYTES}, not in one pass as large as
     * {@link Splitter#PASS_BYTES}: the writer's forces would queue behind that one sync.
     * Failure model: each stream-file sync takes 400 ms more (the storage seam sleeps before
     * the real syncfs); nothing fails or is cut. What could fail: a pass larger than the small
     * cap (with a fixed 32 MiB cap the backlog moves in one), an event not read back.
     */
    @Test
    void onSlowSyncsACalmCatchUpMovesItsBacklogInSmallPasses() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(8 << 20).withPressureGauge(gauge)
                .withIo(new ForwardingStorageIo() {
                    @Override
                    public void syncfs(Path path) throws IOException {
                        try {
                            Thread.sleep(400);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted in a slow sync", e);
                        }
                        super.syncfs(path);
                    }
                });
        int streams = 100;
        int rounds = 10;
        int perAppend = 10;
        try (RingStore store = RingStore.open(config)) {
            gauge.high(); // held back: the backlog builds up
            await(store, () -> store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE, "the splitter to pause");
            for (int r = 0; r < rounds; r++) {
                List<CompletableFuture<?>> round = new ArrayList<>();
                for (int s = 0; s < streams; s++) {
                    List<EventData> events = new ArrayList<>();
                    for (int i = 0; i < perAppend; i++) {
                        events.add(EventData.of("t", new byte[2000]));
                    }
                    round.add(store.append("backlog-" + s, r == 0 ? ExpectedVersion.NO_STREAM
                            : ExpectedVersion.exactly((long) r * perAppend - 1), events));
                }
                round.forEach(CompletableFuture::join);
            }
            long backlog = store.splitterStatus().lagBytes();
            assertTrue(backlog > 3 * Splitter.PRESSED_PASS_BYTES, "test precondition: a backlog of several small passes, "
                    + backlog + " bytes");
            long passesBefore = store.splitterStatus().windows();
            gauge.calm();
            await(store, () -> store.splitterStatus().lagEvents() == 0, "the calm catch-up");
            long passes = store.splitterStatus().windows() - passesBefore;
            // A pass takes streams until it has planned its cap, so it may pass it by one stream's group.
            long largest = Splitter.PRESSED_PASS_BYTES + (long) perAppend * rounds * 2100;
            assertTrue(passes >= backlog / largest, passes + " passes moved " + backlog
                    + " bytes on 400 ms syncs: a pass larger than " + largest + " bytes");
            for (int s = 0; s < streams; s++) {
                assertEquals(rounds * perAppend, store.readStream("backlog-" + s, 0, rounds * perAppend + 1,
                        Direction.FORWARD).events().size(), "backlog-" + s + " reads back whole");
            }
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
