package io.ringstore.log;

import io.ringstore.log.GoldenLog.CheckpointMode;
import io.ringstore.log.GoldenLog.Rec;
import io.ringstore.log.GoldenLog.Seg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Flip any single byte of a log written by a real store (segment headers, frame lengths, CRCs,
 * bodies, padding, seals, the free space after them and after the tail): the store either opens
 * and returns exactly the valid prefix or refuses with a CorruptLogException naming the file and
 * offset, exactly as {@link DamageOracle} works out from the bytes; {@code verify} agrees; with
 * repair the store always opens (unless the first segment's header is damaged), cut at the
 * damage. Never another exception, never a hang, never a record that was not written.
 */
class ByteFlipPropertyTest {
    private static Path root;

    /** XOR {@code mask} into byte {@code offset} of segment file {@code segment}; {@code region} names what it hits. */
    record Flip(String region, int segment, long offset, int mask) {
        List<byte[]> apply(GoldenLog g) {
            List<byte[]> files = g.copyOfFiles();
            files.get(segment)[(int) offset] ^= (byte) mask;
            return files;
        }

        @Override
        public String toString() {
            return region + ": segment=" + segment + " offset=" + offset + " xor=0x" + Integer.toHexString(mask);
        }
    }

    @Property(tries = 240, seed = "7305441827")
    void singleByteFlipOpensWithTheValidPrefixOrRefuses(@ForAll("flips") Flip flip, @ForAll CheckpointMode checkpoint)
            throws IOException {
        run(flip, checkpoint, false);
    }

    @Property(tries = 120, seed = "1902236645")
    void repairCutsAtTheFlippedByteAndOpens(@ForAll("flips") Flip flip, @ForAll CheckpointMode checkpoint)
            throws IOException {
        run(flip, checkpoint, true);
    }

    private static void run(Flip flip, CheckpointMode checkpoint, boolean repair) throws IOException {
        GoldenLog g = GoldenLog.shared();
        List<byte[]> damaged = flip.apply(g);
        DamageOracle.Expected expected = DamageOracle.expect(g, damaged, checkpoint, repair);
        Statistics.label("region").collect(flip.region());
        Statistics.label("outcome").collect(expected.outcome().getClass().getSimpleName()
                + (expected.outcome() instanceof DamageOracle.Refuses r ? (r.atOpen() ? " at open" : " at read") : ""));
        Path data = g.materialize(root(), damaged, checkpoint);
        try {
            DamageOracle.check(g, data, new DamageOracle.Expected(expected.outcome(), expected.verifyExit(),
                    flip + ", checkpoint " + checkpoint + ": " + expected.why()), repair);
        } finally {
            GoldenLog.deleteTree(data);
        }
    }

    @Provide
    Arbitrary<Flip> flips() {
        GoldenLog g = GoldenLog.shared();
        int size = (int) GoldenLog.SEGMENT_SIZE;
        Seg tail = g.tail();
        List<Seg> sealed = g.segments.subList(0, g.segments.size() - 1);
        List<Rec> padded = g.records.stream().filter(r -> r.frameEnd() > r.bodyEnd()).toList();
        List<Rec> lastBatch = g.records.stream().filter(r -> r.record().getDurableBefore() == g.lastForce).toList();
        Arbitrary<Integer> segment = Arbitraries.integers().between(0, g.segments.size() - 1);
        Arbitrary<Rec> record = Arbitraries.of(g.records);

        Arbitrary<Flip> anyByte = Arbitraries.longs().between(0, (long) size * g.segments.size() - 1)
                .map(p -> flip("any byte", (int) (p / size), p % size));
        Arbitrary<Flip> header = Combinators.combine(segment, Arbitraries.integers().between(0, SegmentHeader.LENGTH - 1))
                .as((s, o) -> flip(o < GoldenLog.HEADER_CHECKED ? "segment header" : "reserved header bytes", s, o));
        Arbitrary<Flip> frameHeader = Combinators.combine(record, Arbitraries.integers().between(0, RecordFrame.HEADER_LENGTH - 1))
                .as((r, o) -> flip(o < RecordFrame.CRC_OFFSET ? "frame length" : "frame crc", r.segment(), r.offset() + o));
        Arbitrary<Flip> body = record.flatMap(r -> Arbitraries.longs().between(r.offset() + RecordFrame.BODY_OFFSET, r.bodyEnd() - 1)
                .map(o -> flip("record body", r.segment(), o)));
        Arbitrary<Flip> padding = Arbitraries.of(padded).flatMap(r -> Arbitraries.longs().between(r.bodyEnd(), r.frameEnd() - 1)
                .map(o -> flip("frame padding", r.segment(), o)));
        Arbitrary<Flip> lastBatchFrame = Arbitraries.of(lastBatch).flatMap(r -> Arbitraries.longs().between(r.offset(), r.frameEnd() - 1)
                .map(o -> flip("frame of the last batch", r.segment(), o)));
        Arbitrary<Flip> seal = Arbitraries.of(sealed).flatMap(s -> Arbitraries.longs().between(s.sealOffset(), s.sealOffset() + 7)
                .map(o -> flip(o < s.sealOffset() + 4 ? "seal word" : "seal padding", s.index(), o)));
        Arbitrary<Flip> afterSeal = Arbitraries.of(sealed).flatMap(s -> Arbitraries.longs().between(s.sealOffset() + 8, size - 1)
                .map(o -> flip("free space after a seal", s.index(), o)));
        Arbitrary<Flip> afterTail = Arbitraries.longs().between(tail.endOffset(), Math.min(size - 1, tail.endOffset() + 63))
                .map(o -> flip("just after the last record", tail.index(), o));
        Arbitrary<Flip> where = Arbitraries.frequencyOf(
                Tuple.of(4, anyByte), Tuple.of(2, header), Tuple.of(3, frameHeader), Tuple.of(2, body),
                Tuple.of(1, padding), Tuple.of(2, lastBatchFrame), Tuple.of(2, seal), Tuple.of(1, afterSeal),
                Tuple.of(1, afterTail));
        return Combinators.combine(where, Arbitraries.integers().between(1, 255))
                .as((f, mask) -> new Flip(f.region(), f.segment(), f.offset(), mask));
    }

    private static Flip flip(String region, int segment, long offset) {
        return new Flip(region, segment, offset, 0);
    }

    static synchronized Path root() throws IOException {
        if (root == null) {
            root = Files.createTempDirectory("ringstore-flip");
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
