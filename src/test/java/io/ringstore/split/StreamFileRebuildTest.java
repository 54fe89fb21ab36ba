package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.append;
import static io.ringstore.split.SplitterTestSupport.await;
import static io.ringstore.split.SplitterTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import io.ringstore.status.Led;
import io.ringstore.status.LedLogic;
import io.ringstore.status.LedPattern;
import io.ringstore.status.StoreSignals;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, defect 5: rebuilding a damaged stream file keeps its sound part and what the log
 * holds, leaves a file whose header names what it really holds first, swaps it in with one
 * rename (the damaged file copied aside first), and leaves no temp file behind a crash.
 */
class StreamFileRebuildTest {
    @TempDir
    Path dir;

    /** Split log segments are reclaimed as soon as they can be: the log soon forgets old events. */
    private StoreConfig forgetfulConfig(StorageIo io) {
        StoreConfig c = config(dir, new ControlledGauge());
        return c.withSplitter(c.splitter().withRetention(0, 0)).withIo(io);
    }

    private static List<Long> versions(RingStore store, String stream) {
        StreamSlice slice = store.readStream(stream, 0, 1000, Direction.FORWARD);
        return slice.events().stream().map(LogRecord::getVersion).toList();
    }

    private static List<Long> range(long from, long toInclusive) {
        return LongStream.rangeClosed(from, toInclusive).boxed().toList();
    }

    private Path fileOf(String stream) {
        return new StreamFiles(dir.resolve("streams"), 1, 1).pathFor(stream);
    }

    /** Appends to another stream until the log no longer holds anything at or below {@code position}. */
    private static void rollPast(RingStore store, long position) throws InterruptedException {
        byte[] big = new byte[8 << 10];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (store.readLog(0, 1).records().getFirst().getPosition() <= position) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log kept position " + position + "; splitter " + store.splitterStatus());
            }
            store.append("filler", ExpectedVersion.ANY, List.of(EventData.of("t", big))).join();
        }
    }

    /** The file offset where {@code version}'s frame starts. */
    private static long offsetOf(Path file, String stream, long version) throws IOException {
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
            long at = r.offset();
            LogRecord rec;
            while ((rec = r.next()) != null) {
                if (rec.getVersion() == version) {
                    return at;
                }
                at = r.offset();
            }
        }
        throw new AssertionError("version " + version + " not in " + file);
    }

    /** Replaces the data of the frame at {@code offset} with {@code data} (same length), checksum and all. */
    private static void forge(Path file, long offset, String data) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(head, offset);
            byte[] body = new byte[head.getInt(0)];
            ch.read(ByteBuffer.wrap(body), offset + 8);
            byte[] forged = LogRecord.parseFrom(body).toBuilder()
                    .setData(com.google.protobuf.ByteString.copyFromUtf8(data)).build().toByteArray();
            assertEquals(body.length, forged.length);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(forged);
            head.putInt(4, (int) crc.getValue());
            ch.write(head.clear(), offset);
            ch.write(ByteBuffer.wrap(forged), offset + 8);
        }
    }

    private static void zero(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(length), offset);
        }
    }

    /**
     * Versions 0..99 are only in the file (the log reclaimed them), 100..119 in both; a lost
     * sector hits version 110's frame. Before the fix the rebuild kept only the log's 100..119
     * and reported 0..99 lost.
     */
    @Test
    void aRebuildKeepsTheSoundPartOfTheFileAndWhatTheLogHolds() throws Exception {
        try (RingStore store = RingStore.open(forgetfulConfig(new FileStorageIo()))) {
            for (int v = 0; v < 100; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            rollPast(store, store.committedPosition());
            for (int v = 100; v < 120; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            Path file = fileOf("victim");
            // Version 105 in the file differs from the log's (as periodic durability can leave
            // it after a cut): the log is the truth for every version it holds.
            forge(file, offsetOf(file, "victim", 105), "victim#1o5");
            zero(file, offsetOf(file, "victim", 110), 64);
            byte[] damaged = Files.readAllBytes(file);
            assertEquals(range(0, 119), versions(store, "victim"), "read through a rebuild");
            assertEquals(0, store.splitterStatus().lostVersions(), "the file and the log kept every version");
            assertEquals(LedPattern.OFF, LedLogic.patterns(StoreSignals.from(store.status(), false, System.nanoTime()))
                    .get(Led.FAULT));
            assertEquals("victim#105", store.readStream("victim", 105, 1, Direction.FORWARD).events().getFirst()
                    .getData().toStringUtf8(), "the log's copy of a version both hold");
            assertArrayEquals(damaged, Files.readAllBytes(file.resolveSibling(file.getFileName() + ".damaged")),
                    "the damaged file is kept aside as it was");
            assertFalse(Files.exists(file.resolveSibling(file.getFileName() + StreamFiles.REBUILD_TEMP_SUFFIX)));
            try (StreamFileReader r = StreamFileReader.open(file, "victim")) {
                assertEquals(0, r.firstVersion());
                while (r.next() != null) {
                    // read to the end
                }
                assertEquals(null, r.stopReason(), "the rebuilt file reads to its end");
                assertEquals(119, r.lastFooterVersion());
                assertEquals(Files.size(file), r.lastFooterEnd(), "the rebuilt file ends with a footer");
            }
        }
        try (RingStore store = RingStore.open(forgetfulConfig(new FileStorageIo()))) {
            assertEquals(range(0, 119), versions(store, "victim"), "after a restart");
        }
    }

    /**
     * The header is damaged, its footers are sound, and the splitter's checkpoint is behind every
     * version the file holds (a pass wrote the file and a cut took the checkpoint that followed):
     * the log holds the whole stream. Before the fix the rebuild took the footers' last version
     * for the last split one, reported versions 0..99 lost (an error, {@code LOST_VERSIONS=100}, the
     * fault LED) and then re-split them all from the log. Found in a power-cut life.
     */
    @Test
    void aDamagedFileWhoseVersionsAreAllUnsplitLosesNothing() throws Exception {
        StoreConfig keeping = config(dir, new ControlledGauge());
        try (RingStore store = RingStore.open(keeping)) {
            for (int v = 0; v < 100; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
        }
        Files.delete(keeping.checkpointDir().resolve(io.ringstore.split.SplitterCheckpoint.FILE_NAME));
        Path file = fileOf("victim");
        zero(file, 0, 32);
        try (RingStore store = RingStore.open(keeping)) {
            await(store, () -> store.splitterStatus().lagEvents() == 0, "re-split");
            assertEquals(range(0, 99), versions(store, "victim"));
            assertEquals(0, store.splitterStatus().lostVersions(), "the log held every version");
            assertEquals(LedPattern.OFF, LedLogic.patterns(StoreSignals.from(store.status(), false, System.nanoTime()))
                    .get(Led.FAULT));
            try (StreamFileReader r = StreamFileReader.open(file, "victim")) {
                assertEquals(0, r.firstVersion());
                while (r.next() != null) {
                    // read to the end
                }
                assertEquals(null, r.stopReason());
                assertEquals(99, r.lastFooterVersion());
            }
        }
    }

    /**
     * Found in a power-cut life: a stream hard-deleted (tombstone, truncate_before=32) whose file
     * retention had removed, a restart with the splitter's checkpoint behind the delete, and the
     * log holding versions 26..31 only. The splitter found the file "missing versions 0..30" and
     * the rebuild reported 0..25 lost (an error, LOST_VERSIONS, the fault LED), though the delete
     * hides every one of them. Versions the stream's limits or a delete hide are not lost.
     */
    @Test
    void versionsALimitOrADeleteHidesAreNotCountedLost() throws Exception {
        StreamFiles files = new StreamFiles(dir.resolve("streams"), 1, 1);
        for (long hiddenBelow : new long[] {0, 32, 20}) {
            String stream = "deleted-" + hiddenBelow;
            long before = files.lostVersions();
            try (StreamFiles.Rebuild rebuild = files.startRebuild(stream, 30, hiddenBelow)) {
                for (long v = 26; v <= 30; v++) {
                    rebuild.add(v, LogRecord.newBuilder().setStream(stream).setVersion(v).setPosition(1000 + v)
                            .setData(com.google.protobuf.ByteString.copyFromUtf8(stream + "#" + v)).build().toByteArray());
                }
                assertEquals(30, rebuild.commit());
            }
            long expected = hiddenBelow == 0 ? 26 : hiddenBelow == 32 ? 0 : 6; // 0..25, none, 20..25
            assertEquals(expected, files.lostVersions() - before, "hidden below " + hiddenBelow);
            try (StreamFileReader r = StreamFileReader.open(files.pathFor(stream), stream)) {
                assertEquals(26, r.firstVersion(), "the file holds what the log held");
            }
        }
    }

    /**
     * The header is damaged and the log holds nothing of the stream: versions 0..99 are lost.
     * Before the fix the rebuilt file was a bare header claiming version 0, which every read
     * took for damage again: the stream could never be read. Now the file says it starts at
     * 100; reads see no events and no error, and the stream goes on.
     */
    @Test
    void aRebuildWithNothingInTheLogLeavesAFileThatReadsAndGrows() throws Exception {
        try (RingStore store = RingStore.open(forgetfulConfig(new FileStorageIo()))) {
            for (int v = 0; v < 100; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            rollPast(store, store.committedPosition());
            Path file = fileOf("victim");
            zero(file, 0, 32);
            StreamSlice slice = store.readStream("victim", 0, 1000, Direction.FORWARD);
            assertEquals(List.of(), slice.events());
            assertEquals(99, slice.lastVersion());
            try (StreamFileReader r = StreamFileReader.open(file, "victim")) {
                assertEquals(100, r.firstVersion(), "the header names what the file holds first");
            }
            assertEquals(100, store.splitterStatus().lostVersions(), "versions 0..99 are lost");
            assertEquals(LedPattern.ON, LedLogic.patterns(StoreSignals.from(store.status(), false, System.nanoTime()))
                    .get(Led.FAULT), "a person should look");
            assertTrue(new io.ringstore.status.StatusLine().format(store.status(), 0, java.util.Map.of(), System.nanoTime())
                    .contains(" LOST_VERSIONS=100"));
            Path socket = dir.resolve("s.sock");
            try (var server = io.ringstore.server.SocketServer.start(store, io.ringstore.server.ServerConfig.defaults(socket));
                 var client = io.ringstore.client.RingStoreClient.connect(socket)) {
                var status = client.status().get();
                assertEquals(100, status.getSplitterLostVersions(), "`ringstore status` says so too");
                assertEquals(100L, io.ringstore.jsonlines.JsonLines.statusObject(status).get("splitter_lost_versions"));
            }
            append(store, "victim", 100);
            assertEquals(List.of(100L), versions(store, "victim"), "unsplit");
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            assertEquals(List.of(100L), versions(store, "victim"), "split");
        }
        try (RingStore store = RingStore.open(forgetfulConfig(new FileStorageIo()))) {
            assertEquals(List.of(100L), versions(store, "victim"), "after a restart");
        }
    }

    /**
     * Before the fix the swap was two renames (file to .damaged, then temp to file): between
     * them the stream had no file.
     */
    @Test
    void aRebuildSwapsTheFileInWithOneRename() throws Exception {
        Path file = fileOf("victim");
        WatchingIo io = new WatchingIo(file);
        try (RingStore store = RingStore.open(config(dir, new ControlledGauge()).withIo(io))) {
            for (int v = 0; v < 20; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() / 2);
            }
            byte[] damaged = Files.readAllBytes(file);
            io.watching = true;
            assertEquals(range(0, 19), versions(store, "victim"));
            io.watching = false;
            assertEquals(List.of(), io.fileMissingAfter, "operations after which the stream had no file");
            assertEquals(1, io.renamesOntoFile, "renames onto the stream file: " + io.calls);
            assertArrayEquals(damaged, Files.readAllBytes(file.resolveSibling(file.getFileName() + ".damaged")));
        }
    }

    /**
     * Crash window: the process died after writing the rebuild's temp file, before its rename.
     * Before the fix that temp file stayed for good.
     */
    @Test
    void aRebuildTempFileACrashLeftIsRemovedAtStart() throws Exception {
        Path file = fileOf("victim");
        try (RingStore store = RingStore.open(config(dir, new ControlledGauge()))) {
            for (int v = 0; v < 5; v++) {
                append(store, "victim", v);
            }
            await(store, () -> store.splitterStatus().lagEvents() == 0, "split");
        }
        Path temp = file.resolveSibling(file.getFileName() + StreamFiles.REBUILD_TEMP_SUFFIX);
        Files.write(temp, "half a rebuild".getBytes(StandardCharsets.UTF_8));
        try (RingStore store = RingStore.open(config(dir, new ControlledGauge()))) {
            await(store, () -> !Files.exists(temp), "leftover temp file removed");
            assertEquals(range(0, 4), versions(store, "victim"));
        }
    }

    /** Delegates to the file system; while watching, notes whether the stream file exists after each change. */
    private static final class WatchingIo extends io.ringstore.log.ForwardingStorageIo {
        private final Path file;
        volatile boolean watching;
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final List<String> fileMissingAfter = Collections.synchronizedList(new ArrayList<>());
        volatile int renamesOntoFile;

        WatchingIo(Path file) {
            this.file = file;
        }

        private void after(String call) {
            if (watching) {
                calls.add(call);
                if (!Files.exists(file)) {
                    fileMissingAfter.add(call);
                }
            }
        }

        @Override
        public void forceDirectory(Path d) throws IOException {
            delegate.forceDirectory(d);
            after("forceDirectory " + d.getFileName());
        }

        @Override
        public void writeFile(Path f, byte[] content) throws IOException {
            delegate.writeFile(f, content);
            after("writeFile " + f.getFileName());
        }

        @Override
        public void rename(Path from, Path to) throws IOException {
            delegate.rename(from, to);
            if (watching && to.equals(file)) {
                renamesOntoFile++;
            }
            after("rename " + from.getFileName() + " " + to.getFileName());
        }

        @Override
        public FileChannel open(Path f, OpenOption... options) throws IOException {
            FileChannel ch = delegate.open(f, options);
            after("open " + f.getFileName());
            return ch;
        }

        @Override
        public boolean deleteIfExists(Path f) throws IOException {
            boolean deleted = delegate.deleteIfExists(f);
            after("delete " + f.getFileName());
            return deleted;
        }
    }
}
