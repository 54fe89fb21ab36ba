package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.log.GoldenLog.CheckpointMode;
import io.ringstore.log.GoldenLog.Checkpoint;
import io.ringstore.log.GoldenLog.Rec;
import io.ringstore.log.GoldenLog.Seg;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.RingStore;
import io.ringstore.tools.VerifyCommand;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What opening a damaged copy of the {@link GoldenLog} must do, worked out from the bytes alone,
 * and the check that the store does exactly that.
 *
 * <p>The rule being encoded (LogRecovery): recovery stops at the first frame that is not a valid
 * record (or a damaged seal). Let X be that position. If a record after X that is still intact
 * has {@code durable_before > X}, the bytes at X had been forced and acknowledged: refuse with
 * CorruptLogException naming the file and offset of X (with repair: cut there and set later
 * segments aside). Otherwise X is a torn tail: open with exactly the records before X. A
 * stream-table checkpoint at position P is a second proof that X was forced. The golden folders
 * carry no splitter checkpoint, so nothing counts as split and opening scans the whole log (to
 * index the unsplit tail): damage anywhere is found at open. A damaged segment header (the
 * fields and their CRC, bytes 0..35) refuses at open; with repair it sets that segment and all
 * later ones aside. Bytes no reader interprets (frame padding, the reserved header bytes, the
 * second half of the seal word, the free space after a seal) change nothing.
 */
final class DamageOracle {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private DamageOracle() {}

    sealed interface Outcome permits Opens, Refuses {}

    /**
     * The store opens and reads back exactly the first {@code records} records.
     *
     * @param cutSegment   segment where recovery zeroes bytes, or -1 when it cuts nothing
     * @param cutOffset    offset of that cut
     * @param setAside     segments renamed aside by a repair
     * @param removed      empty segments after a torn tail, removed
     * @param nextPosition where the next append lands
     */
    record Opens(int records, int cutSegment, long cutOffset, List<Integer> setAside, List<Integer> removed,
                 long nextPosition) implements Outcome {}

    /** The store refuses with a CorruptLogException naming this segment and offset, at open or at the first read. */
    record Refuses(int segment, long offset, boolean atOpen) implements Outcome {}

    /** The outcome, what {@code verify} must return, and why (for failure messages). */
    record Expected(Outcome outcome, int verifyExit, String why) {}

    static Expected expect(GoldenLog g, List<byte[]> damaged, CheckpointMode mode, boolean repair) {
        int last = g.segments.size() - 1;
        for (Seg s : g.segments) {
            if (changed(g, damaged, s.index(), 0, GoldenLog.HEADER_CHECKED)) {
                String why = "damaged header of segment " + s.index();
                if (!repair || s.index() == 0) {
                    // Repair sets the damaged segment and all later ones aside; with the first
                    // one damaged nothing would be left, so it refuses too.
                    return new Expected(new Refuses(s.index(), 0, true), 1, why);
                }
                return new Expected(new Opens(s.firstRecord(), -1, -1, range(s.index(), last), List.of(),
                        s.base() + SegmentHeader.LENGTH), 1, why + ", set aside with the later ones");
            }
        }
        // The first frame (or seal) in log order whose bytes changed.
        int stopSegment = -1;
        long stopOffset = -1;
        int prefix = -1;
        String what = null;
        for (Seg s : g.segments) {
            for (int r = s.firstRecord(); r < s.firstRecord() + s.records() && stopSegment < 0; r++) {
                Rec rec = g.records.get(r);
                if (changed(g, damaged, s.index(), rec.offset(), rec.bodyEnd())) {
                    stopSegment = s.index();
                    stopOffset = rec.offset();
                    prefix = r;
                    what = "damaged record " + r;
                }
            }
            if (stopSegment < 0 && s.sealOffset() >= 0
                    && changed(g, damaged, s.index(), s.sealOffset(), s.sealOffset() + Integer.BYTES)) {
                stopSegment = s.index();
                stopOffset = s.sealOffset();
                prefix = s.firstRecord() + s.records();
                what = "damaged seal of segment " + s.index();
            }
            if (stopSegment >= 0) {
                break;
            }
        }
        if (stopSegment < 0) {
            Seg tail = g.tail();
            if (!nonZero(damaged.get(tail.index()), tail.endOffset())) {
                return new Expected(new Opens(g.records.size(), -1, -1, List.of(), List.of(), g.end), 0,
                        "bytes no reader interprets");
            }
            stopSegment = tail.index();
            stopOffset = tail.endOffset();
            prefix = g.records.size();
            what = "garbage after the last record";
        }
        Seg s = g.segments.get(stopSegment);
        long x = s.base() + stopOffset;
        long proof = -1;
        for (int r = prefix; r < g.records.size(); r++) {
            Rec rec = g.records.get(r);
            if (rec.record().getDurableBefore() > x
                    && !changed(g, damaged, rec.segment(), rec.offset(), rec.bodyEnd())) {
                proof = rec.record().getPosition();
                break;
            }
        }
        Checkpoint checkpoint = g.checkpoint(mode);
        long checkpointed = checkpoint == null ? -1 : checkpoint.position();
        int verifyExit = proof >= 0 ? 1 : 0;
        String why = what + " at position " + x + (proof >= 0 ? ", proven forced by the record at " + proof : ", a torn tail")
                + (x < checkpointed ? ", below the checkpoint at " + checkpointed : "");
        if (!repair) {
            if (x < checkpointed) {
                return new Expected(new Refuses(stopSegment, stopOffset, true), verifyExit, why);
            }
            if (proof >= 0) {
                return new Expected(new Refuses(stopSegment, stopOffset, true), verifyExit, why);
            }
        }
        int cutSegment = nonZero(damaged.get(stopSegment), stopOffset) ? stopSegment : -1;
        List<Integer> later = range(stopSegment + 1, last);
        return new Expected(new Opens(prefix, cutSegment, cutSegment < 0 ? -1 : stopOffset,
                proof >= 0 ? later : List.of(), proof >= 0 ? List.of() : later, x), verifyExit, why);
    }

    private static boolean changed(GoldenLog g, List<byte[]> damaged, int segment, long from, long to) {
        return !Arrays.equals(g.files.get(segment), (int) from, (int) to, damaged.get(segment), (int) from, (int) to);
    }

    private static boolean nonZero(byte[] bytes, long from) {
        for (int i = (int) from; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                return true;
            }
        }
        return false;
    }

    private static List<Integer> range(int from, int toInclusive) {
        return IntStream.rangeClosed(from, toInclusive).boxed().toList();
    }

    // ------------------------------------------------------------------ checking the store

    /**
     * Runs {@code verify} on the damaged folder, then opens it (with a timeout: a hang fails),
     * reads everything, appends once, and checks each step against {@code expected}. Any
     * exception other than the expected CorruptLogException fails.
     */
    static void check(GoldenLog g, Path data, Expected expected, boolean repair) {
        String context = expected.why() + (repair ? " (repair)" : "");
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Verified before = verify(data);
            assertEquals(expected.verifyExit(), before.exit(), context + ": verify said\n" + before.output());
            openAndCheck(g, data, expected.outcome(), repair, context);
            if (expected.outcome() instanceof Opens) {
                Verified after = verify(data);
                assertEquals(0, after.exit(), context + ": after recovery and a clean stop verify said\n" + after.output());
            }
        }, context + ": timed out (a hang)");
    }

    private static void openAndCheck(GoldenLog g, Path data, Outcome expected, boolean repair, String context)
            throws IOException {
        RingStore store;
        try {
            store = RingStore.open(GoldenLog.config(data).withRepair(repair));
        } catch (CorruptLogException e) {
            assertRefusal(g, data, expected, e, true, context);
            return;
        }
        try (store) {
            List<LogRecord> read;
            try {
                read = store.readAll(0, Integer.MAX_VALUE).records();
            } catch (CorruptLogException e) {
                assertRefusal(g, data, expected, e, false, context);
                return;
            }
            Opens opens = assertInstanceOf(Opens.class, expected,
                    context + ": expected a refusal, but the store opened and read " + read.size() + " records");
            assertRecords(g.firstRecords(opens.records()), read, context);

            RecoveryReport report = store.recovery();
            if (opens.cutSegment() < 0) {
                assertNull(report.cutFile(), context + ": nothing to cut, but " + report.summary());
            } else {
                assertEquals(file(g, data, opens.cutSegment()), report.cutFile(), context + ": " + report.summary());
                assertEquals(opens.cutOffset(), report.cutOffset(), context + ": " + report.summary());
            }
            assertEquals(opens.setAside().stream().map(i -> data.resolve("log")
                    .resolve(g.segments.get(i).name() + ".set-aside")).toList(), report.setAside(), context);
            assertEquals(opens.removed().stream().map(i -> file(g, data, i)).toList(), report.removedEmpty(), context);

            // The stream table and the write position agree with what was read back.
            LogRecord lastRead = read.isEmpty() ? null : read.getLast();
            String stream = lastRead == null ? "fresh" : lastRead.getStream();
            long version = lastRead == null ? -1 : lastRead.getVersion();
            AppendResult r = store.append(stream,
                    version < 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(version),
                    List.of(EventData.of("after-recovery", new byte[] {1, 2, 3}))).join();
            assertEquals(version + 1, r.firstVersion(), context);
            assertEquals(opens.nextPosition(), r.firstPosition(), context);
            List<LogRecord> after = store.readAll(0, Integer.MAX_VALUE).records();
            assertEquals(read.size() + 1, after.size(), context);
            assertRecords(read, after.subList(0, read.size()), context + ", after one more append");
            assertEquals("after-recovery", after.getLast().getType(), context);
        }
    }

    private static void assertRefusal(GoldenLog g, Path data, Outcome expected, CorruptLogException e, boolean atOpen,
                                      String context) {
        if (!(expected instanceof Refuses refuses)) {
            throw new AssertionError(context + ": expected the store to open and read back "
                    + ((Opens) expected).records() + " records, but it refused " + (atOpen ? "at open" : "at read"), e);
        }
        String where = "file=" + e.file() + " offset=" + e.offset() + " (" + e.getMessage() + ")";
        assertEquals(refuses.atOpen(), atOpen, context + ": refused " + (atOpen ? "at open" : "at read") + ": " + where);
        assertEquals(file(g, data, refuses.segment()), e.file(), context + ": " + where);
        assertEquals(refuses.offset(), e.offset(), context + ": " + where);
    }

    private static void assertRecords(List<LogRecord> expected, List<LogRecord> actual, String context) {
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                fail(context + ": record " + i + " differs from what was written: expected position "
                        + expected.get(i).getPosition() + ", read " + actual.get(i));
            }
        }
        assertEquals(expected.size(), actual.size(), context + ": number of records read back");
    }

    static Path file(GoldenLog g, Path data, int segment) {
        return data.resolve("log").resolve(g.segments.get(segment).name());
    }

    /** What {@code ringstore verify} printed and returned. */
    record Verified(int exit, String output) {}

    static synchronized Verified verify(Path data) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            int exit = VerifyCommand.run(new String[] {"--data", data.toString()});
            return new Verified(exit, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
