package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.Segment;
import io.ringstore.log.SegmentHeader;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.testsupport.FreePorts;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A primary and a standby store in this JVM, over real loopback TCP: shipping byte for byte,
 * restart, catch-up under load, refusals, promotion, and a former primary rejoining.
 */
@Timeout(60)
class ReplicationTest {
    private static final long SEGMENT = 64 << 10;

    @TempDir
    Path dir;

    private int port1;
    private int port2;
    private final List<RingStore> open = new ArrayList<>();

    @BeforeEach
    void ports() throws IOException {
        port1 = FreePorts.next();
        port2 = FreePorts.next();
    }

    @AfterEach
    void closeAll() {
        for (RingStore s : open) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                // Best effort: the test's own assertions said what mattered.
            }
        }
    }

    private StoreConfig config(String board) {
        return StoreConfig.defaults(dir.resolve(board)).withSegmentSize(SEGMENT).withPsiFile(dir.resolve("no-psi"));
    }

    private ReplicationOptions b1(Role role, AckMode mode) {
        ReplicationOptions.Peer b2 = new ReplicationOptions.Peer("b2", new InetSocketAddress("127.0.0.1", port2));
        return new ReplicationOptions(role, "b1", new InetSocketAddress("127.0.0.1", port1),
                role == Role.STANDBY ? b2 : null, List.of(b2), 60_000, mode, new PlainSockets());
    }

    private ReplicationOptions b2(Role role, AckMode mode) {
        ReplicationOptions.Peer b1 = new ReplicationOptions.Peer("b1", new InetSocketAddress("127.0.0.1", port1));
        return new ReplicationOptions(role, "b2", new InetSocketAddress("127.0.0.1", port2),
                role == Role.STANDBY ? b1 : null, List.of(b1), 60_000, mode, new PlainSockets());
    }

    private ReplicationOptions b1Holding(long holdMillis) {
        ReplicationOptions o = b1(Role.PRIMARY, AckMode.LOCAL);
        return new ReplicationOptions(o.role(), o.board(), o.listen(), o.primary(), o.peers(), holdMillis, o.ackMode(),
                o.sockets());
    }

    private RingStore open(String board, ReplicationOptions r) throws IOException {
        return open(config(board), r);
    }

    private RingStore open(StoreConfig c, ReplicationOptions r) throws IOException {
        RingStore s = RingStore.open(c, r);
        open.add(s);
        return s;
    }

    private void close(RingStore s) throws IOException {
        open.remove(s);
        s.close();
    }

    private static EventData event(String text) {
        return EventData.of("test", text.getBytes(StandardCharsets.UTF_8));
    }

    private static void append(RingStore s, String stream, int n, String prefix) {
        for (int i = 0; i < n; i++) {
            s.append(stream, ExpectedVersion.ANY, List.of(event(prefix + i + "-" + "x".repeat(200)))).join();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the standby holds, forced and committed, everything the primary has. */
    private static void awaitCaughtUp(RingStore primary, RingStore standby) throws InterruptedException {
        await("standby caught up", () -> {
            long end = primary.log().writtenPosition();
            Replication.Status s = standby.replication().status();
            return s.held() == end && s.durable() == end && standby.committedPosition() == primary.committedPosition();
        });
    }

    /** Every segment's frame area, byte for byte (headers differ: each board stamps its own creation time). */
    private static void assertSameLog(RingStore a, RingStore b) throws IOException {
        List<Path> fa = a.log().segmentFiles();
        List<Path> fb = b.log().segmentFiles();
        assertEquals(fa.stream().map(p -> p.getFileName().toString()).toList(),
                fb.stream().map(p -> p.getFileName().toString()).toList(), "same segments");
        for (int i = 0; i < fa.size(); i++) {
            byte[] x = Files.readAllBytes(fa.get(i));
            byte[] y = Files.readAllBytes(fb.get(i));
            assertEquals(x.length, y.length);
            assertArrayEquals(Arrays.copyOfRange(x, SegmentHeader.LENGTH, x.length),
                    Arrays.copyOfRange(y, SegmentHeader.LENGTH, y.length), "frames of " + fa.get(i).getFileName());
        }
    }

    private static RingStoreException failure(Runnable r) {
        CompletionException e = assertThrows(CompletionException.class, r::run);
        return assertInstanceOf(RingStoreException.class, e.getCause());
    }

    @Test
    void shippedFramesAreTheSameBytesAtTheSamePositionsAcrossRolls() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "a", 300, "a");
        append(primary, "b", 300, "b");
        awaitCaughtUp(primary, standby);
        assertTrue(primary.log().segmentFiles().size() >= 3, "the test crosses segment rolls");
        assertSameLog(primary, standby);
        StandbyProgress.Standby seen = primary.replicaProgress() instanceof StandbyProgress p ? p.standbys().getFirst() : null;
        assertNotNull(seen);
        assertEquals("b2", seen.board());
        assertTrue(seen.connected());
        // The standby's acknowledgement of its force reaches the primary after the standby's own
        // status says durable (a full run once read the primary's view one batch behind).
        long end = primary.log().writtenPosition();
        await("the primary learns the standby holds and forced everything", () ->
                primary.replicaProgress().held(AckMode.REPLICA_DURABLE) == end);
        assertEquals(end, primary.replicaProgress().held(AckMode.REPLICA_MEMORY));
        assertEquals(end, primary.replicaProgress().held(AckMode.REPLICA_DURABLE));
    }

    @Test
    void standbyRefusesAppendsWithNotPrimaryAndServesReads() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "orders", 50, "o");
        awaitCaughtUp(primary, standby);

        RingStoreException e = failure(() -> standby.append("orders", ExpectedVersion.ANY, List.of(event("no"))).join());
        assertEquals(ErrorCode.NOT_PRIMARY, e.code());
        assertTrue(e.getMessage().contains("b1"), e.getMessage());
        long before = standby.log().writePosition();

        StreamSlice slice = standby.readStream("orders", 0, 100, Direction.FORWARD);
        assertEquals(50, slice.events().size());
        assertTrue(slice.events().get(49).getData().toStringUtf8().startsWith("o49-"));
        assertEquals(50, standby.readAll(0, 100).records().size());
        assertEquals(before, standby.log().writePosition(), "a refused append stores nothing");
    }

    @Test
    void restartedStandbyResumesFromWhatItHolds() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "s", 100, "first");
        awaitCaughtUp(primary, standby);
        long held = standby.log().writePosition();
        close(standby);

        append(primary, "s", 300, "second");
        RingStore again = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        assertEquals(held, again.log().writePosition(), "reopened with what it held");
        awaitCaughtUp(primary, again);
        assertSameLog(primary, again);
        assertEquals(400, again.readStream("s", 0, 1000, Direction.FORWARD).events().size());
    }

    @Test
    void standbyFarBehindCatchesUpWhileAppendsGoOn() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.LOCAL));
        for (int i = 0; i < 200; i++) { // ~1 MB: 16+ segments
            List<EventData> batch = new ArrayList<>();
            for (int j = 0; j < 20; j++) {
                batch.add(event("x" + i + "-" + j + "-" + "x".repeat(200)));
            }
            primary.append("bulk", ExpectedVersion.ANY, batch).join();
        }
        assertTrue(primary.log().segmentFiles().size() > 15);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger live = new AtomicInteger();
        Thread writer = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                primary.append("live", ExpectedVersion.ANY, List.of(event("l" + live.get()))).join();
                live.incrementAndGet();
            }
        });
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        try {
            await("catching up with appends going on", () -> standby.replication().status().held()
                    >= primary.committedPosition() && live.get() > 200);
        } finally {
            stop.set(true);
            writer.join();
        }
        assertTrue(live.get() > 200, "appends went on while the standby caught up");
        awaitCaughtUp(primary, standby);
        assertSameLog(primary, standby);
        StreamSlice last = standby.readStream("live", -1, 1, Direction.BACKWARD);
        assertEquals(live.get() - 1, last.events().getFirst().getVersion(), "every live append is on the standby");
    }

    @Test
    void aReclaimedPositionIsRefusedWithTheTypedReason() throws Exception {
        StoreConfig c = config("b1");
        c = c.withSplitter(c.splitter().withWindow(4 << 10, 5).withRetention(0, 0));
        RingStore primary = open(c, b1(Role.PRIMARY, AckMode.LOCAL));
        append(primary, "r", 2000, "r");
        primary.splitter().drain();
        await("the first segments reclaimed", () -> primary.log().oldestPosition() > SEGMENT);
        long oldest = primary.log().oldestPosition();

        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        await("the refusal", () -> standby.replication().status().primary() != null
                && standby.replication().status().primary().lastRefusal().startsWith("RECLAIMED"));
        String refusal = standby.replication().status().primary().lastRefusal();
        assertTrue(refusal.contains("re-seed"), refusal);
        assertEquals(SegmentHeader.LENGTH, standby.log().writePosition(), "nothing stored on the standby");
        assertTrue(oldest > SegmentHeader.LENGTH);
    }

    @Test
    void promotionIsRefusedWhenUnsafeAndAllowedWhenSafe() throws Exception {
        // No primary running: the standby has never been in contact since it started.
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        RingStoreException refused = assertThrows(RingStoreException.class, () -> standby.promote(false));
        assertEquals(ErrorCode.INVALID_REQUEST, refused.code());
        assertTrue(refused.getMessage().contains("not been in contact"), refused.getMessage());
        assertEquals(Role.STANDBY, standby.replication().role());

        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        append(primary, "p", 100, "p");
        awaitCaughtUp(primary, standby);
        close(primary);

        Replication.Promoted promoted = standby.promote(false);
        assertEquals(1, promoted.epoch());
        assertEquals(standby.log().writePosition(), promoted.start());
        assertTrue(promoted.message().startsWith("safe"), promoted.message());
        assertEquals(Role.PRIMARY, standby.replication().role());
        assertEquals("0@0,1@" + promoted.start(), standby.replication().history().toString());
        var r = standby.append("p", ExpectedVersion.exactly(99), List.of(event("after"))).join();
        assertEquals(100, r.firstVersion());
        assertEquals(promoted.start(), r.firstPosition());
        assertEquals(EpochHistory.load(dir.resolve("b2")).toString(), standby.replication().history().toString());
    }

    /**
     * Found by the nemesis run's sibling, ReplicationDaemonTest: a standby's written position (what
     * shipping sends up to) stayed where its store opened, since applied frames never published
     * it; once promoted, until its first append, it told a rejoining standby that its epoch ended
     * there, below acknowledged events, and stopped shipping ("the written position moved back").
     */
    @Test
    void aRestartedStandbyPromotedShipsItsWholeLogBeforeItsFirstAppend() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "p", 50, "first");
        awaitCaughtUp(primary, standby);
        close(standby);
        RingStore again = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "p", 50, "second");
        awaitCaughtUp(primary, again);
        assertEquals(again.log().writePosition(), again.log().writtenPosition(), "a standby's written position follows what it applied");
        close(primary);

        Replication.Promoted promoted = again.promote(false);
        assertEquals(promoted.start(), again.log().writtenPosition(), "the promoted board ships all it holds");
        // A new standby (b1's data moved away: it starts empty) is shipped the whole log at once.
        java.nio.file.Files.move(dir.resolve("b1"), dir.resolve("b1-old"));
        RingStore follower = open("b1", b1(Role.STANDBY, AckMode.REPLICA_MEMORY));
        await("the new standby holds the promoted board's log", () -> follower.log().writePosition() >= promoted.start());
        assertEquals(100, follower.readStream("p", 0, 1000, Direction.FORWARD).events().size());
    }

    @Test
    void promotionInLocalModeNeedsForce() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.LOCAL));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        append(primary, "p", 10, "p");
        awaitCaughtUp(primary, standby);
        RingStoreException refused = assertThrows(RingStoreException.class, () -> standby.promote(false));
        assertTrue(refused.getMessage().contains("acknowledged locally"), refused.getMessage());
        Replication.Promoted forced = standby.promote(true);
        assertTrue(forced.message().startsWith("FORCED"), forced.message());
        // The old primary sees the newer epoch through its probes and stops acknowledging.
        await("old primary fenced", () -> !primary.replication().acknowledging());
        RingStoreException fenced = failure(() -> primary.append("p", ExpectedVersion.ANY, List.of(event("x"))).join());
        assertEquals(ErrorCode.NOT_PRIMARY, fenced.code());
        assertTrue(fenced.getMessage().contains("epoch 1"), fenced.getMessage());
    }

    @Test
    void formerPrimarySetsItsDivergentTailAsideAndCatchesUp() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "shared", 100, "s");
        awaitCaughtUp(primary, standby);
        close(standby);
        // Written on b1 alone (its writer does not wait for standbys in this branch): never on b2.
        append(primary, "shared", 20, "lost");
        append(primary, "only-b1", 5, "o");
        long b1End = primary.log().writePosition();
        close(primary);

        RingStore b2 = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        Replication.Promoted promoted = b2.promote(true);
        long cut = promoted.start();
        assertTrue(cut < b1End);
        append(b2, "shared", 30, "new");

        // b1 comes back configured as primary: it finds b2 primary in epoch 1 and follows it.
        RingStore b1 = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        assertEquals(Role.STANDBY, b1.replication().role());
        await("b1 learns it must cut", () -> b1.replication().restartRequired());
        close(b1);
        RingStore back = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        Path aside = DivergentTail.file(dir.resolve("b1"), 0, cut);
        assertTrue(Files.exists(aside), "divergent tail kept in " + aside);
        assertTrue(Files.size(aside) > 24 + (b1End - cut) / 2, "it holds the cut bytes");
        assertEquals(List.of(aside), back.replication().status().diverged());
        awaitCaughtUp(b2, back);
        assertSameLog(b2, back);
        StreamSlice shared = back.readStream("shared", 0, 1000, Direction.FORWARD);
        assertEquals(130, shared.events().size());
        assertTrue(shared.events().get(100).getData().toStringUtf8().startsWith("new0-"));
        assertThrows(RingStoreException.class, () -> back.readStream("only-b1", 0, 10, Direction.FORWARD));
        for (LogRecord r : back.readAll(0, 4096).records()) {
            assertFalse(r.getData().toStringUtf8().startsWith("lost"), "no divergent event readable");
        }
        assertEquals("0@0,1@" + cut, back.replication().history().toString());
    }

    @Test
    void retentionKeepsWhatADisconnectedStandbyStillNeedsUntilItsHoldTimeEnds() throws Exception {
        StoreConfig c = config("b1");
        c = c.withSplitter(c.splitter().withWindow(4 << 10, 5).withRetention(0, 0));
        RingStore primary = open(c, b1Holding(60_000));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        append(primary, "r", 200, "r");
        awaitCaughtUp(primary, standby);
        long held = standby.log().writePosition();
        close(standby);
        append(primary, "r", 2000, "later");
        primary.splitter().drain();
        // The splitter reclaims what it has split, but not the segment the standby resumes in.
        await("the splitter ran past the standby", () -> primary.splitter().status().position() > held + 4 * SEGMENT);
        primary.splitter().drain();
        assertTrue(primary.log().oldestPosition() <= held, "kept for the standby: oldest=" + primary.log().oldestPosition()
                + " standby=" + held);
        RingStore back = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        awaitCaughtUp(primary, back);
        assertSameLog(primary, back);
        // Caught up: the segments it no longer needs go (the splitter reclaims as it works).
        await("reclaimed once the standby moved on", () -> {
            append(primary, "r", 20, "more");
            primary.splitter().drain();
            return primary.log().oldestPosition() > held;
        });
    }

    @Test
    void aStandbyGoneLongerThanItsHoldTimeNoLongerHoldsRetentionBack() throws Exception {
        StoreConfig c = config("b1");
        c = c.withSplitter(c.splitter().withWindow(4 << 10, 5).withRetention(0, 0));
        RingStore primary = open(c, b1Holding(0));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        append(primary, "r", 200, "r");
        awaitCaughtUp(primary, standby);
        long held = standby.log().writePosition();
        close(standby);
        append(primary, "r", 2000, "later");
        primary.splitter().drain();
        await("reclaimed past the departed standby", () -> {
            primary.splitter().drain();
            return primary.log().oldestPosition() > held;
        });
        RingStore back = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        await("the refusal", () -> back.replication().status().primary() != null
                && back.replication().status().primary().lastRefusal().startsWith("RECLAIMED"));
    }

    @Test
    void aStandbyThatLostAnEarlierPageButKeptALaterOneCutsThereAndFetchesAgain() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.LOCAL));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        append(primary, "s", 150, "s");
        awaitCaughtUp(primary, standby);
        Path last = standby.log().segmentFiles().getLast();
        long base = Segment.baseOf(last);
        long end = standby.log().writePosition() - base;
        close(standby);
        // The crash this board forces later than the primary allows: a power cut kept a later
        // page and lost an earlier one (and the checkpoints written after them).
        Path data = dir.resolve("b2");
        Files.delete(data.resolve("checkpoint").resolve(io.ringstore.checkpoint.StreamTableCheckpoint.FILE_NAME));
        Files.deleteIfExists(data.resolve("checkpoint").resolve(io.ringstore.split.SplitterCheckpoint.FILE_NAME));
        long lostPage = ((SegmentHeader.LENGTH + end) / 2) & -4096L;
        assertTrue(lostPage + 4096 < end - 512, "a later page survives: end=" + end + " lost=" + lostPage);
        try (var ch = java.nio.channels.FileChannel.open(last, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(4096), Math.max(lostPage, SegmentHeader.LENGTH));
        }
        // As a primary the same folder is refused: there durable_before proves the bytes were forced.
        assertThrows(io.ringstore.log.CorruptLogException.class,
                () -> RingStore.open(config("b2")).close());
        RingStore again = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        assertTrue(again.log().writePosition() <= base + Math.max(lostPage, SegmentHeader.LENGTH),
                "cut where the page was lost");
        awaitCaughtUp(primary, again);
        assertSameLog(primary, again);
        assertEquals(150, again.readStream("s", 0, 1000, Direction.FORWARD).events().size());
    }

    @Test
    void garbageOnTheReplicationPortIsRefusedAndChangesNothing() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.LOCAL));
        append(primary, "g", 10, "g");
        long before = primary.log().writePosition();
        for (byte[] junk : List.of("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                new byte[] {0, 0, 0, 5, 1, 0x52, 0x53, 0x52, 0x51}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff})) {
            try (var s = new java.net.Socket("127.0.0.1", port1)) {
                s.setSoTimeout(15_000);
                s.getOutputStream().write(junk);
                s.shutdownOutput();
                byte[] answer = s.getInputStream().readAllBytes();
                if (answer.length > 0) {
                    var f = ReplicationWire.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(answer)));
                    assertEquals(ReplicationWire.Refusal.BAD_HELLO, ReplicationWire.readRefused(f).reason());
                }
            }
        }
        // An unknown board is refused too.
        ReplicationOptions stranger = new ReplicationOptions(Role.STANDBY, "b9", new InetSocketAddress("127.0.0.1", FreePorts.next()),
                new ReplicationOptions.Peer("b1", new InetSocketAddress("127.0.0.1", port1)), List.of(), 60_000,
                AckMode.LOCAL, new PlainSockets());
        RingStore b9 = open("b9", stranger);
        await("the refusal", () -> b9.replication().status().primary() != null
                && b9.replication().status().primary().lastRefusal().startsWith("NOT_A_PEER"));
        assertEquals(before, primary.log().writePosition());
        assertEquals(SegmentHeader.LENGTH, b9.log().writePosition());
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.LOCAL));
        awaitCaughtUp(primary, standby);
    }

    @Test
    void limitsAndDeletesShippedFromThePrimaryApplyOnTheStandbyAndAfterPromotion() throws Exception {
        RingStore primary = open("b1", b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        append(primary, "gone", 5, "g");
        append(primary, "capped", 10, "c");
        primary.deleteStream("gone", true).join();
        primary.setLimits("capped", new io.ringstore.retention.StreamLimits(3, io.ringstore.retention.StreamLimits.UNSET, io.ringstore.retention.StreamLimits.UNSET, false)).join();
        awaitCaughtUp(primary, standby);

        RingStoreException deleted = assertThrows(RingStoreException.class,
                () -> standby.readStream("gone", 0, 10, Direction.FORWARD));
        assertEquals(ErrorCode.STREAM_DELETED, deleted.code());
        assertEquals(3, standby.readStream("capped", 0, 100, Direction.FORWARD).events().size());
        close(primary);

        standby.promote(false);
        RingStoreException refused = failure(() -> standby.append("gone", ExpectedVersion.ANY, List.of(event("x"))).join());
        assertEquals(ErrorCode.STREAM_DELETED, refused.code());
    }

    @Test
    void aBatchThePrimaryFailedToForceIsCutFromTheStandbyThatHeldIt() throws Exception {
        AtomicBoolean failNextForce = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<RingStore> primaryRef = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<RingStore> standbyRef = new java.util.concurrent.atomic.AtomicReference<>();
        io.ringstore.log.StorageIo failing = new io.ringstore.log.ForwardingStorageIo(new io.ringstore.log.FileStorageIo()) {
            @Override
            public void force(java.lang.foreign.MemorySegment mapping, long offset, long length) throws IOException {
                if (failNextForce.getAndSet(false)) {
                    // The standby holds the batch before this board's force fails: the window
                    // in which the two logs part.
                    long written = primaryRef.get().log().writtenPosition();
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (standbyRef.get().replication().status().held() < written && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    throw new IOException("injected: force failed");
                }
                super.force(mapping, offset, length);
            }
        };
        RingStore primary = open(config("b1").withIo(failing), b1(Role.PRIMARY, AckMode.REPLICA_MEMORY));
        primaryRef.set(primary);
        RingStore standby = open("b2", b2(Role.STANDBY, AckMode.REPLICA_MEMORY));
        standbyRef.set(standby);
        append(primary, "s", 20, "ok");
        awaitCaughtUp(primary, standby);
        long before = primary.log().writePosition();

        failNextForce.set(true);
        RingStoreException e = failure(() -> primary.append("s", ExpectedVersion.ANY, List.of(event("doomed"))).join());
        assertEquals(ErrorCode.STORAGE_ERROR, e.code());
        assertTrue(standby.replication().status().held() > before, "the standby held the undone batch");
        // The primary writes something else at the same position.
        append(primary, "s", 5, "after");
        awaitCaughtUp(primary, standby);
        assertSameLog(primary, standby);
        List<String> data = standby.readStream("s", 0, 100, Direction.FORWARD).events().stream()
                .map(r -> r.getData().toStringUtf8()).toList();
        assertEquals(25, data.size());
        assertTrue(data.stream().noneMatch(d -> d.startsWith("doomed")), data.toString());
    }
}
