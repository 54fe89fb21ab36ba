package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.checkpoint.StreamTableCheckpoint;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A main log written by a real store (several segments, some group commits of more than one
 * append, a last batch of several records), kept as the bytes of its segment files and of the
 * stream-table checkpoints the store wrote, plus an independent parse of those bytes (our own
 * little-endian reads, not {@link FrameReader}) that the damage tests use as their oracle.
 * Built once per JVM; every try copies the bytes into a fresh folder.
 */
final class GoldenLog {
    static final long SEGMENT_SIZE = 64 << 10;
    static final long SEED = 0x6F1D_2026L;
    /** Header bytes the header check covers: the fields and their CRC; the reserved rest is not checked. */
    static final int HEADER_CHECKED = SegmentHeader.CRC_OFFSET + Integer.BYTES;

    /** One record as found in the bytes: segment index, offset of its frame, body length. */
    record Rec(int index, int segment, long offset, int bodyLength, LogRecord record) {
        long bodyEnd() {
            return offset + RecordFrame.HEADER_LENGTH + bodyLength;
        }

        long frameEnd() {
            return RecordFrame.align(bodyEnd());
        }
    }

    /** One segment file: its records {@code [firstRecord, firstRecord + records)}, seal offset (-1 for the tail). */
    record Seg(int index, String name, long base, int firstRecord, int records, long sealOffset, long endOffset) {}

    /** A stream-table checkpoint the store wrote, and the log position it covers. */
    record Checkpoint(long position, byte[] bytes) {}

    /** Where the checkpoint of a damaged folder comes from. */
    enum CheckpointMode {
        /** None: the first start, or a damaged checkpoint (the whole log is scanned). */
        NONE,
        /** The one written at the last segment roll: what a crash leaves. */
        LAST_ROLL,
        /** The one written at the clean stop: it covers the whole log. */
        CLEAN_STOP
    }

    final List<byte[]> files;
    final List<Seg> segments;
    final List<Rec> records;
    /** The position the log was last proven forced up to: the largest {@code durable_before}. */
    final long lastForce;
    /** The position after the last record. */
    final long end;
    final Checkpoint lastRoll;
    final Checkpoint cleanStop;

    private GoldenLog(List<byte[]> files, List<Seg> segments, List<Rec> records, Checkpoint lastRoll,
                      Checkpoint cleanStop) {
        this.files = files;
        this.segments = segments;
        this.records = records;
        this.lastRoll = lastRoll;
        this.cleanStop = cleanStop;
        this.lastForce = records.getLast().record().getDurableBefore();
        Seg tail = segments.getLast();
        this.end = tail.base() + tail.endOffset();
    }

    private static GoldenLog shared;

    static synchronized GoldenLog shared() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("ringstore-golden");
                try {
                    shared = build(dir);
                } finally {
                    deleteTree(dir);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    static StoreConfig config(Path dataDir) {
        return StoreConfig.defaults(dataDir).withSegmentSize(SEGMENT_SIZE);
    }

    Seg tail() {
        return segments.getLast();
    }

    Checkpoint checkpoint(CheckpointMode mode) {
        return switch (mode) {
            case NONE -> null;
            case LAST_ROLL -> lastRoll;
            case CLEAN_STOP -> cleanStop;
        };
    }

    List<LogRecord> firstRecords(int n) {
        return records.subList(0, n).stream().map(Rec::record).toList();
    }

    /** Copies of the segment files' bytes, to damage. */
    List<byte[]> copyOfFiles() {
        return files.stream().map(byte[]::clone).toList();
    }

    /** Writes a data folder holding these segment bytes and the checkpoint of {@code mode}. */
    Path materialize(Path parent, List<byte[]> segmentBytes, CheckpointMode mode) throws IOException {
        Path data = Files.createTempDirectory(parent, "try");
        Path log = Files.createDirectories(data.resolve("log"));
        for (int i = 0; i < segments.size(); i++) {
            Files.write(log.resolve(segments.get(i).name()), segmentBytes.get(i));
        }
        Checkpoint c = checkpoint(mode);
        if (c != null) {
            Path dir = Files.createDirectories(data.resolve("checkpoint"));
            Files.write(dir.resolve(StreamTableCheckpoint.FILE_NAME), c.bytes());
        }
        return data;
    }

    // ------------------------------------------------------------------ building

    private record Appended(String stream, List<EventData> events, CompletableFuture<AppendResult> result) {}

    private static GoldenLog build(Path dir) throws IOException {
        Random random = new Random(SEED);
        CheckpointRecorder io = new CheckpointRecorder(new FileStorageIo());
        List<Appended> appended = new ArrayList<>();
        try (RingStore store = RingStore.open(config(dir).withIo(io))) {
            long last = 0;
            while (last < 3 * SEGMENT_SIZE + SEGMENT_SIZE / 2) {
                // One to three appends submitted together, so some group commits hold several.
                List<Appended> group = new ArrayList<>();
                for (int g = 1 + random.nextInt(3); g > 0; g--) {
                    String stream = "stream-" + random.nextInt(12);
                    List<EventData> events = new ArrayList<>();
                    for (int e = random.nextInt(4) == 0 ? 2 + random.nextInt(3) : 1; e > 0; e--) {
                        events.add(event(random));
                    }
                    group.add(new Appended(stream, events, store.append(stream, ExpectedVersion.ANY, events)));
                }
                for (Appended a : group) {
                    last = Math.max(last, a.result().join().lastPosition());
                }
                appended.addAll(group);
            }
            // The last batch: several records that no later record proves forced.
            List<EventData> events = new ArrayList<>();
            for (int e = 0; e < 6; e++) {
                events.add(event(random));
            }
            appended.add(new Appended("tail", events, store.append("tail", ExpectedVersion.NO_STREAM, events)));
            appended.getLast().result().join();
        }
        List<byte[]> files = new ArrayList<>();
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.resolve("log"))) {
            for (Path p : s.sorted(Comparator.comparing(Path::toString)).toList()) {
                names.add(p.getFileName().toString());
                files.add(Files.readAllBytes(p));
            }
        }
        List<Seg> segments = new ArrayList<>();
        List<Rec> records = new ArrayList<>();
        parse(files, names, segments, records);
        checkAgainstAppends(records, appended);

        List<Checkpoint> written = io.checkpoints;
        Checkpoint cleanStop = written.getLast();
        Checkpoint lastRoll = null;
        for (Checkpoint c : written) {
            if (c.position() < cleanStop.position()) {
                lastRoll = c;
            }
        }
        assertEquals(segments.getLast().base() + segments.getLast().endOffset(), cleanStop.position(),
                "the clean stop's checkpoint covers the whole log");
        assertNotNull(lastRoll, "a roll wrote a checkpoint");
        GoldenLog g = new GoldenLog(List.copyOf(files), List.copyOf(segments), List.copyOf(records), lastRoll, cleanStop);
        assertTrue(g.segments.size() >= 4, "several segments: " + g.segments.size());
        assertTrue(g.lastRoll.position() <= g.lastForce, "a roll's checkpoint never passes what was forced");
        long lastBatch = g.records.stream().filter(r -> r.record().getDurableBefore() == g.lastForce).count();
        assertTrue(lastBatch >= 6, "the last batch holds several records: " + lastBatch);
        long groupCommits = g.records.stream().map(r -> r.record().getDurableBefore()).distinct().count();
        assertTrue(groupCommits < g.records.size(), "some batches hold several records");
        return g;
    }

    private static EventData event(Random random) {
        byte[] id = new byte[EventData.EVENT_ID_LENGTH];
        random.nextBytes(id);
        int size = switch (random.nextInt(3)) {
            case 0 -> 1 + random.nextInt(40);
            case 1 -> 100 + random.nextInt(500);
            default -> 1500 + random.nextInt(2500);
        };
        byte[] data = new byte[size];
        random.nextBytes(data);
        return new EventData(id, "golden", data, null);
    }

    /** Reads the frames with our own little-endian reads: the layout of RecordFrame and SegmentHeader. */
    private static void parse(List<byte[]> files, List<String> names, List<Seg> segments, List<Rec> records)
            throws InvalidProtocolBufferException {
        for (int i = 0; i < files.size(); i++) {
            ByteBuffer b = ByteBuffer.wrap(files.get(i)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(SEGMENT_SIZE, b.capacity());
            assertEquals(SegmentHeader.MAGIC, b.getInt(0));
            long base = b.getLong(8);
            assertEquals(Segment.fileName(base), names.get(i));
            int first = records.size();
            long offset = SegmentHeader.LENGTH;
            long seal = -1;
            while (true) {
                int length = b.getInt((int) offset);
                if (length == 0) {
                    break;
                }
                if (length == -1) {
                    seal = offset;
                    break;
                }
                CRC32C crc = new CRC32C();
                crc.update(files.get(i), (int) offset + 8, length);
                assertEquals((int) crc.getValue(), b.getInt((int) offset + 4), "crc at " + offset);
                LogRecord r = LogRecord.parseFrom(ByteBuffer.wrap(files.get(i), (int) offset + 8, length));
                assertEquals(base + offset, r.getPosition());
                records.add(new Rec(records.size(), i, offset, length, r));
                offset = RecordFrame.align(offset + 8 + length);
            }
            boolean last = i == files.size() - 1;
            assertEquals(last, seal < 0, "every segment but the last is sealed");
            for (long o = last ? offset : seal + RecordFrame.SEAL_LENGTH; o < SEGMENT_SIZE; o++) {
                assertEquals(0, files.get(i)[(int) o], "zero after the last frame");
            }
            segments.add(new Seg(i, names.get(i), base, first, records.size() - first, seal, offset));
        }
    }

    private static void checkAgainstAppends(List<Rec> records, List<Appended> appended) {
        Map<String, Rec> byVersion = new HashMap<>();
        for (Rec r : records) {
            byVersion.put(r.record().getStream() + "@" + r.record().getVersion(), r);
        }
        int events = 0;
        for (Appended a : appended) {
            AppendResult result = a.result().join();
            for (int k = 0; k < a.events().size(); k++) {
                Rec r = byVersion.get(a.stream() + "@" + (result.firstVersion() + k));
                assertNotNull(r, "appended event not in the log");
                assertArrayEquals(a.events().get(k).eventId(), r.record().getEventId().toByteArray());
                assertArrayEquals(a.events().get(k).data(), r.record().getData().toByteArray());
                if (k == 0) {
                    assertEquals(result.firstPosition(), r.record().getPosition());
                }
                events++;
            }
        }
        assertEquals(events, records.size(), "the log holds exactly what was appended");
    }

    /** Keeps a copy of every stream-table checkpoint the store renames into place. */
    private static final class CheckpointRecorder extends ForwardingStorageIo {
        final List<Checkpoint> checkpoints = new ArrayList<>();

        CheckpointRecorder(StorageIo delegate) {
            super(delegate);
        }

        @Override
        public void rename(Path from, Path to) throws IOException {
            delegate.rename(from, to);
            if (to.getFileName().toString().equals(StreamTableCheckpoint.FILE_NAME)) {
                byte[] bytes = Files.readAllBytes(to);
                synchronized (checkpoints) {
                    // Layout in StreamTableCheckpoint: the log position is the big-endian int64 at 8.
                    checkpoints.add(new Checkpoint(ByteBuffer.wrap(bytes).getLong(8), bytes));
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
