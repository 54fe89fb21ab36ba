package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ringstore.log.GoldenLog.CheckpointMode;
import io.ringstore.log.GoldenLog.Rec;
import io.ringstore.log.GoldenLog.Seg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * A crash between writing a batch and forcing it leaves any part of the unforced bytes on disk.
 * Zero the log from any offset after the last force (to the end of the segment, or only a hole
 * of it, as when later pages reached the disk and earlier ones did not): the store opens with
 * exactly the records before the first damaged one, cuts the rest, and carries on from there.
 * Never a refusal (nothing proves those bytes were forced), never a record that was not written.
 */
class TornTailPropertyTest {
    private static Path root;

    /** Zero {@code [offset, offset + length)} of the tail segment; length 0 means to its end. */
    record Cut(long offset, long length, String kind) {
        List<byte[]> apply(GoldenLog g) {
            List<byte[]> files = g.copyOfFiles();
            byte[] tail = files.get(g.tail().index());
            int to = length == 0 ? tail.length : (int) Math.min(tail.length, offset + length);
            Arrays.fill(tail, (int) offset, to, (byte) 0);
            return files;
        }

        @Override
        public String toString() {
            return kind + ": zero tail segment from offset " + offset + (length == 0 ? " to its end" : " for " + length + " bytes");
        }
    }

    @Property(tries = 200, seed = "4062157993")
    void zeroingAfterTheLastForceRecoversExactlyTheRecordsBeforeIt(@ForAll("cuts") Cut cut,
            @ForAll("crashCheckpoints") CheckpointMode checkpoint, @ForAll boolean repair) throws IOException {
        GoldenLog g = GoldenLog.shared();
        List<byte[]> damaged = cut.apply(g);
        DamageOracle.Expected expected = DamageOracle.expect(g, damaged, checkpoint, repair);
        DamageOracle.Opens opens = assertInstanceOf(DamageOracle.Opens.class, expected.outcome(),
                cut + ": nothing after the last force may be refused: " + expected.why());
        assertEquals(0, expected.verifyExit(), cut + ": " + expected.why());
        Statistics.label("cut").collect(cut.kind());
        Statistics.label("records cut").collect(g.records.size() - opens.records());
        Path data = g.materialize(root(), damaged, checkpoint);
        try {
            DamageOracle.check(g, data, new DamageOracle.Expected(opens, 0,
                    cut + ", checkpoint " + checkpoint + ": " + expected.why()), repair);
        } finally {
            GoldenLog.deleteTree(data);
        }
    }

    @Provide
    Arbitrary<CheckpointMode> crashCheckpoints() {
        // What a crash leaves: no checkpoint yet, or the one of the last roll (a clean stop's
        // covers everything, so nothing after it is unforced).
        return Arbitraries.of(CheckpointMode.NONE, CheckpointMode.LAST_ROLL);
    }

    @Provide
    Arbitrary<Cut> cuts() {
        GoldenLog g = GoldenLog.shared();
        Seg tail = g.tail();
        long lastForce = g.lastForce - tail.base();
        long size = GoldenLog.SEGMENT_SIZE;
        List<Rec> unforced = g.records.stream().filter(r -> r.record().getDurableBefore() == g.lastForce).toList();
        // Interesting offsets: frame starts, inside the length word and the CRC, body ends.
        Arbitrary<Long> edge = Arbitraries.of(unforced).flatMap(r -> Arbitraries.of(
                r.offset(), r.offset() + 1, r.offset() + 4, r.offset() + 8, r.bodyEnd() - 1, r.bodyEnd(), r.frameEnd()));
        Arbitrary<Long> inBatch = Arbitraries.longs().between(lastForce, tail.endOffset() + 16);
        Arbitrary<Long> anywhere = Arbitraries.longs().between(lastForce, size - 1);
        Arbitrary<Tuple.Tuple2<String, Long>> where = Arbitraries.frequencyOf(
                Tuple.of(3, edge.map(o -> Tuple.of("at a frame edge", o))),
                Tuple.of(3, inBatch.map(o -> Tuple.of("inside the last batch", o))),
                Tuple.of(1, anywhere.map(o -> Tuple.of("anywhere after the last force", o))));
        Arbitrary<Long> length = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(2, Arbitraries.longs().between(1, 8)),
                Tuple.of(2, Arbitraries.longs().between(9, 8192)));
        return Combinators.combine(where, length).as((w, l) -> new Cut(w.get2(), l, w.get1() + (l == 0 ? "" : ", a hole")));
    }

    static synchronized Path root() throws IOException {
        if (root == null) {
            root = Files.createTempDirectory("ringstore-cut");
        }
        return root;
    }

    @AfterContainer
    static synchronized void removeFolders() throws IOException {
        if (root != null) {
            GoldenLog.deleteTree(root);
            root = null;
        }
    }
}
