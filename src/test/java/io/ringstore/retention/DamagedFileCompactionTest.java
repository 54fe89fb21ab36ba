package io.ringstore.retention;

import static io.ringstore.retention.StreamLimitsTest.append;
import static io.ringstore.retention.StreamLimitsTest.config;
import static io.ringstore.retention.StreamLimitsTest.range;
import static io.ringstore.retention.StreamLimitsTest.versions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.TailIndex;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import io.ringstore.store.RingStore;
import io.ringstore.writer.StreamTable;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, defect 1 and item 7: retention must never compute what to keep from a read that
 * stopped at damage, nor from versions the log has not forced.
 */
class DamagedFileCompactionTest {
    private static final StreamLimits KEEP_10 = new StreamLimits(10, StreamLimits.UNSET, StreamLimits.UNSET, false);

    @TempDir
    Path dir;

    /**
     * A power cut that keeps a group's footer page but loses a middle page of the stream file;
     * the store restarts with a count limit; the compactor runs before the splitter's first
     * pass. Before the fix it rewrote the file as a bare header claiming versions 0..199 and a
     * read of the stream returned nothing, with no error.
     */
    @Test
    void countLimitOnAFileDamagedInTheMiddleKeepsTheVisibleEvents() throws Exception {
        try (RingStore store = RingStore.open(config(dir, true))) {
            append(store, "count", 200);
            await(() -> store.splitterStatus().lagEvents() == 0, "split");
        }
        Path file = new StreamFiles(dir.resolve("streams"), 1, 1).pathFor("count");
        long size = Files.size(file);
        assertTrue(size > 5 * 4096, "file too small to damage in the middle: " + size);
        long page = size / 2 / 4096 * 4096;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4096), page); // the page lost by the cut reads back as zeros
        }
        assertEquals(199, StreamFiles.lastVersionByFooter(file), "the footer page survived");
        try (StreamFileReader r = StreamFileReader.open(file, "count")) {
            while (r.next() != null) {
                // read to the damage
            }
            assertNotNull(r.stopReason(), "the middle page is damaged");
            assertTrue(r.lastVersion() < 190, "damage lies before the versions the limit keeps: " + r.lastVersion());
        }
        try (RingStore store = RingStore.open(config(dir, false))) {
            store.setLimits("count", KEEP_10).join();
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            // Two compactor passes: the first one (before the splitter's first pass) has finished.
            await(() -> store.compactor().stats().passes() >= 2, "two compactor passes");
            assertEquals(range(190, 199), versions(store, "count"), "the count limit's events after the restart");
            // The read found the damage and the splitter rebuilt the file; retention then trims it.
            await(() -> firstVersion(file) == 190, "compaction of the rebuilt file");
            assertEquals(range(190, 199), versions(store, "count"), "after the compaction");
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            assertEquals(range(190, 199), versions(store, "count"), "after another restart");
        }
    }

    /**
     * The stream table runs ahead of the forced log (the writer updates it before its force):
     * versions 100..120 are written, not forced, when the compactor looks. Before the fix it
     * took 120 as the last version, found nothing at or past 111 in the file and rewrote it
     * empty, so a force failure or a power cut then lost versions 90..99 that a count limit of
     * 10 must keep.
     */
    @Test
    void compactorKeepsFromTheLastForcedVersionNotTheWrittenOne() throws Exception {
        Path streams = dir.resolve("streams");
        StreamFiles files = new StreamFiles(streams, 4, 16);
        List<byte[]> bodies = new ArrayList<>();
        for (int v = 0; v < 100; v++) {
            bodies.add(LogRecord.newBuilder().setStream("count").setVersion(v).setPosition(4096L + v * 512L)
                    .setData(ByteString.copyFromUtf8("payload-" + "x".repeat(280))).build().toByteArray());
        }
        long frameBytes = bodies.stream().mapToLong(b -> io.ringstore.log.RecordFrame.frameLength(b.length)).sum();
        files.appendGroup("count", bodies.size(), frameBytes, 0,
                (i, out) -> io.ringstore.split.StreamFileFormat.putFrame(out, bodies.get(i)));
        files.syncAll();
        files.close();
        MainLog log = MainLog.open(dir.resolve("log"), new FileStorageIo(), 256 << 10, false, 0, 0, r -> { })
                .log();
        try {
            StreamTable table = new StreamTable();
            TailIndex tail = new TailIndex(16 << 10);
            long unforced = log.durablePosition() + 4096;
            long[] positions = new long[21];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = unforced + i * 512L;
            }
            tail.add("count", 100, positions, positions.length, positions.length * 512L);
            table.put("count", 120, positions[20]);
            RetentionOptions options = RetentionOptions.defaults()
                    .withPrefixes(List.of(new RetentionOptions.Prefix("count", KEEP_10)));
            StreamCompactor compactor = new StreamCompactor(new Retention(options, null), options,
                    new StreamCompactor.Parts(log, table, tail, new StreamFiles(streams, 4, 16), dir,
                            () -> 0, () -> 0, 0, 0));
            StreamFileRewrite.Prepared prepared = compactor.compact("count", false);
            assertNotNull(prepared, "a file with 90 versions past the limit is worth a rewrite");
            assertEquals(90, prepared.result().firstVersion(), "first kept version");
            assertEquals(99, prepared.result().lastVersion());
        } finally {
            log.close();
        }
    }

    /**
     * A restart whose splitter checkpoint is behind a rewrite that dropped every version of a
     * file: the tail index names versions 0..29 again, the file is a bare header starting at
     * 30. The splitter cannot compare those versions (the file holds none) and re-splits them
     * from the log; it used to report this as a log tail lost in a power cut. Reads show only
     * what the limit leaves, before and after, and the file is trimmed again.
     */
    @Test
    void restartAfterARewriteThatDroppedEveryVersionStillInTheTailIndex() throws Exception {
        StreamLimits truncate30 = new StreamLimits(StreamLimits.UNSET, StreamLimits.UNSET, 30, false);
        Path file = new StreamFiles(dir.resolve("streams"), 1, 1).pathFor("count");
        try (RingStore store = RingStore.open(config(dir, true))) {
            append(store, "count", 30);
            await(() -> store.splitterStatus().lagEvents() == 0, "split");
            store.setLimits("count", truncate30).join();
            await(() -> firstVersion(file) == 30, "the rewrite to a bare header");
            assertEquals(List.of(), versions(store, "count"));
        }
        Files.delete(dir.resolve("checkpoint").resolve(io.ringstore.split.SplitterCheckpoint.FILE_NAME));
        try (RingStore store = RingStore.open(config(dir, true))) {
            await(() -> store.splitterStatus().lagEvents() == 0, "re-split after the restart");
            assertEquals(List.of(), versions(store, "count"), "the limit still hides 0..29");
            assertEquals(0, store.splitterStatus().lostVersions(), "nothing was lost, nothing is reported lost");
            append(store, "count", 2);
            await(() -> store.splitterStatus().lagEvents() == 0, "split of 30..31");
            assertEquals(range(30, 31), versions(store, "count"));
            await(() -> firstVersion(file) == 30, "the re-split versions trimmed again");
        }
        try (RingStore store = RingStore.open(config(dir, true))) {
            assertEquals(range(30, 31), versions(store, "count"), "after another restart");
        }
    }

    private static long firstVersion(Path file) {
        try (StreamFileReader r = StreamFileReader.open(file, "count")) {
            return r.firstVersion();
        } catch (Exception e) {
            return -1;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10); // polling a condition with a deadline, not waiting out a thread
        }
    }
}
