package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.GoldenLog.CheckpointMode;
import io.ringstore.log.GoldenLog.Rec;
import io.ringstore.log.GoldenLog.Seg;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One scenario per kind of damage to a stopped data folder, end to end: what {@code verify}
 * says, what opening refuses, and what {@code --repair} leaves behind (including a crash right
 * after the repair, and the start after that).
 */
class DamagedLogFolderTest {
    @TempDir
    Path tmp;

    private final GoldenLog g = GoldenLog.shared();

    @Test
    void verifyReturnsZeroOnACleanLogAndOneOnMidLogDamage() throws IOException {
        Path clean = g.materialize(tmp, g.copyOfFiles(), CheckpointMode.CLEAN_STOP);
        DamageOracle.Verified ok = DamageOracle.verify(clean);
        assertEquals(0, ok.exit(), ok.output());
        assertTrue(ok.output().contains("records=" + g.records.size()), ok.output());
        assertTrue(ok.output().contains("result: ok"), ok.output());

        Rec victim = recordInSegment(1, 2);
        List<byte[]> files = g.copyOfFiles();
        files.get(1)[(int) victim.offset() + 20] ^= 0x40;
        Path damaged = g.materialize(tmp, files, CheckpointMode.CLEAN_STOP);
        DamageOracle.Verified bad = DamageOracle.verify(damaged);
        assertEquals(1, bad.exit(), bad.output());
        assertTrue(bad.output().contains("CORRUPT file=" + DamageOracle.file(g, damaged, 1) + " offset=" + victim.offset()),
                bad.output());
        assertTrue(bad.output().contains("result: CORRUPT"), bad.output());

        // A torn tail is not corruption: the next open cuts it.
        files = g.copyOfFiles();
        files.get(g.tail().index())[(int) g.tail().endOffset() + 100] = 7;
        DamageOracle.Verified torn = DamageOracle.verify(g.materialize(tmp, files, CheckpointMode.NONE));
        assertEquals(0, torn.exit(), torn.output());
        assertTrue(torn.output().contains("torn tail"), torn.output());
    }

    @Test
    void repairCutsAMidLogFlipSetsLaterSegmentsAsideAndSurvivesACrashAfterwards() throws IOException {
        Rec victim = recordInSegment(1, 2);
        List<byte[]> files = g.copyOfFiles();
        files.get(1)[(int) victim.offset() + 20] ^= 0x40;
        // The folder of a cleanly stopped store: its checkpoint covers the whole log.
        Path data = g.materialize(tmp, files, CheckpointMode.CLEAN_STOP);
        Path damagedFile = DamageOracle.file(g, data, 1);

        // Without repair the store refuses to open: this folder has no splitter checkpoint, so
        // the whole log is unsplit and opening scans all of it (to index the unsplit tail),
        // which reaches the damage.
        CorruptLogException refused = assertThrows(CorruptLogException.class, () -> RingStore.open(GoldenLog.config(data)));
        assertEquals(damagedFile, refused.file());
        assertEquals(victim.offset(), refused.offset());

        List<LogRecord> prefix = g.firstRecords(victim.index());
        Path crashCopy = tmp.resolve("crash-copy");
        LogRecord appended;
        try (RingStore store = RingStore.open(GoldenLog.config(data).withRepair(true))) {
            RecoveryReport report = store.recovery();
            assertEquals(damagedFile, report.cutFile(), report.summary());
            assertEquals(victim.offset(), report.cutOffset(), report.summary());
            List<Path> aside = new ArrayList<>();
            for (Seg s : g.segments.subList(2, g.segments.size())) {
                aside.add(data.resolve("log").resolve(s.name() + ".set-aside"));
            }
            assertEquals(aside, report.setAside());
            aside.forEach(p -> assertTrue(Files.exists(p), p + " kept for a person to look at"));
            assertEquals(prefix, store.readAll(0, Integer.MAX_VALUE).records());

            // The stream "tail" lived only in the segments now set aside: it starts again at 0.
            AppendResult r = store.append("tail", ExpectedVersion.NO_STREAM,
                    List.of(EventData.of("after-repair", new byte[] {9}))).join();
            assertEquals(0, r.firstVersion());
            assertEquals(victim.record().getPosition(), r.firstPosition());
            appended = store.readAll(r.firstPosition(), 1).records().getFirst();
            // A crash now: the repaired log and whatever checkpoint is on disk, as they are.
            copyTree(data, crashCopy);
        }
        List<LogRecord> expected = new ArrayList<>(prefix);
        expected.add(appended);

        DamageOracle.Verified v = DamageOracle.verify(data);
        assertEquals(0, v.exit(), v.output());
        for (Path folder : List.of(data, crashCopy)) {
            try (RingStore store = RingStore.open(GoldenLog.config(folder))) {
                assertEquals(expected, store.readAll(0, Integer.MAX_VALUE).records(), folder.toString());
                AppendResult next = store.append("tail", ExpectedVersion.exactly(0),
                        List.of(EventData.of("after-restart", new byte[] {10}))).join();
                assertEquals(1, next.firstVersion(), folder.toString());
            }
        }
    }

    @Test
    void repairOfADamagedSegmentHeaderSetsAsideThatSegmentAndEveryLaterOne() throws IOException {
        List<byte[]> files = g.copyOfFiles();
        files.get(1)[SegmentHeader.CREATED_OFFSET] ^= 0x01;
        Path data = g.materialize(tmp, files, CheckpointMode.LAST_ROLL);

        CorruptLogException refused = assertThrows(CorruptLogException.class, () -> RingStore.open(GoldenLog.config(data)));
        assertEquals(DamageOracle.file(g, data, 1), refused.file());
        assertEquals(0, refused.offset());

        Seg first = g.segments.getFirst();
        List<LogRecord> kept = g.firstRecords(first.records());
        try (RingStore store = RingStore.open(GoldenLog.config(data).withRepair(true))) {
            List<Path> aside = new ArrayList<>();
            for (Seg s : g.segments.subList(1, g.segments.size())) {
                aside.add(data.resolve("log").resolve(s.name() + ".set-aside"));
            }
            assertEquals(aside, store.recovery().setAside(), store.recovery().summary());
            assertEquals(kept, store.readAll(0, Integer.MAX_VALUE).records());
            AppendResult r = store.append("tail", ExpectedVersion.NO_STREAM,
                    List.of(EventData.of("after-repair", new byte[] {9}))).join();
            assertEquals(g.segments.get(1).base() + SegmentHeader.LENGTH, r.firstPosition(), "rolls to a new segment");
        }
        assertEquals(List.of(g.segments.get(0).name(), g.segments.get(1).name()), segmentFiles(data),
                "only the kept segment and the new one are live");
        try (RingStore store = RingStore.open(GoldenLog.config(data))) {
            List<LogRecord> all = store.readAll(0, Integer.MAX_VALUE).records();
            assertEquals(kept, all.subList(0, kept.size()));
            assertEquals(kept.size() + 1, all.size());
        }
    }

    @Test
    void repairRefusesADamagedFirstSegmentHeaderAndChangesNothing() throws IOException {
        List<byte[]> files = g.copyOfFiles();
        files.get(0)[SegmentHeader.BASE_OFFSET] ^= 0x08;
        Path data = g.materialize(tmp, files, CheckpointMode.NONE);
        List<String> before = listing(data.resolve("log"));

        CorruptLogException e = assertThrows(CorruptLogException.class,
                () -> RingStore.open(GoldenLog.config(data).withRepair(true)));
        assertEquals(DamageOracle.file(g, data, 0), e.file());
        assertEquals(0, e.offset());
        assertEquals(before, listing(data.resolve("log")), "a refused repair must leave the folder as it was");
        // So that the next start (with or without repair) refuses again instead of starting over.
        assertThrows(CorruptLogException.class, () -> RingStore.open(GoldenLog.config(data)));
    }

    @Test
    void truncatedSegmentFileIsRefusedAndRepairSetsItAside() throws IOException {
        Seg tail = g.tail();
        for (long length : new long[] {0, 40, SegmentHeader.LENGTH, tail.endOffset() / 2, GoldenLog.SEGMENT_SIZE - 8}) {
            Path data = g.materialize(tmp, g.copyOfFiles(), CheckpointMode.NONE);
            Path file = DamageOracle.file(g, data, tail.index());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(length);
            }
            CorruptLogException e = assertThrows(CorruptLogException.class, () -> RingStore.open(GoldenLog.config(data)),
                    "truncated to " + length);
            assertEquals(file, e.file());
            assertEquals(0, e.offset());
            assertEquals(1, DamageOracle.verify(data).exit(), "truncated to " + length);
            try (RingStore store = RingStore.open(GoldenLog.config(data).withRepair(true))) {
                assertEquals(g.firstRecords(tail.firstRecord()), store.readAll(0, Integer.MAX_VALUE).records());
                assertEquals(List.of(data.resolve("log").resolve(tail.name() + ".set-aside")), store.recovery().setAside());
            }
        }
    }

    @Test
    void missingMiddleSegmentIsAGapAndRefused() throws IOException {
        Path data = g.materialize(tmp, g.copyOfFiles(), CheckpointMode.CLEAN_STOP);
        Files.delete(DamageOracle.file(g, data, 2));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> RingStore.open(GoldenLog.config(data)));
        assertEquals(DamageOracle.file(g, data, 3), e.file());
        assertEquals(0, e.offset());
        DamageOracle.Verified v = DamageOracle.verify(data);
        assertEquals(1, v.exit(), v.output());
    }

    private Rec recordInSegment(int segment, int k) {
        Seg s = g.segments.get(segment);
        assertTrue(s.records() > k);
        return g.records.get(s.firstRecord() + k);
    }

    private static List<String> segmentFiles(Path data) throws IOException {
        return listing(data.resolve("log")).stream().filter(n -> n.endsWith(".seg")).toList();
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Copies a folder as a cut would find it while the store runs (no lock; files renamed away are skipped). */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("lock")) {
                    try {
                        Files.copy(p, target);
                    } catch (java.nio.file.NoSuchFileException e) {
                        // A temp file renamed away while we walked (the splitter's checkpoint):
                        // a crash at that instant would not have it either.
                    }
                }
            }
        }
    }
}
