package io.ringstore.replication;

import io.ringstore.log.CorruptLogException;
import io.ringstore.log.MainLog;
import io.ringstore.log.RecordFrame;
import io.ringstore.log.SegmentHeader;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.TailIndex;
import io.ringstore.writer.RollListener;
import io.ringstore.writer.StreamTable;
import io.ringstore.writer.Writer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;

/**
 * A standby's writer-thread work: applies the primary's shipped frames to this board's log
 * (byte for byte, at the same positions, rolling where the primary rolled), forces them, and
 * publishes two positions for the {@link Follower} to report: held (copied into the mapping)
 * and durable (forced).
 *
 * <p>Readers on a standby see only what the primary has acknowledged: records are fed to the
 * stream table and tail index, and committed, up to the primary's committed position as it was
 * last told. What is held beyond that may still be cut (the primary's force failed, or it lost
 * an unforced tail): such a cut is made in place ({@link MainLog#truncateTo}) because nothing
 * past it was fed. A cut below what was fed needs the store reopened ({@link DivergentTail}).
 *
 * <p>Messages from the network thread come through a bounded inbox, in order; a barrier lets the
 * follower wait until everything from an old connection is applied before it says hello again.
 */
public final class StandbyApplier implements Writer.Follow {
    /** Shipped frames, the primary's committed position, a cut, or a barrier, in arrival order. */
    private sealed interface Message permits Frames, Committed, Cut, Barrier {}

    private record Frames(long position, long committed, byte[] bytes) implements Message {}

    private record Committed(long position) implements Message {}

    private record Cut(long position, CompletableFuture<Boolean> done) implements Message {}

    private record Barrier(CompletableFuture<Void> done) implements Message {}

    private final MainLog log;
    private final StreamTable table;
    private final TailIndex tail;
    private final RollListener rolls;
    private final Writer writer;
    private final StorageIo io;
    private final Path dataDir;
    private final java.util.function.LongSupplier currentEpoch;
    private final java.util.function.LongConsumer afterApply;
    /** Told of each record fed to the table (retention learns shipped limits and deletes). */
    private final java.util.function.Consumer<LogRecord> fed;
    /**
     * Shipped messages not applied yet: at most {@value #INBOX_MESSAGES} (each up to
     * ReplicationWire.MAX_DATA bytes of frames), so a standby far behind holds a few MiB here
     * however far behind it is; a full inbox holds the follower, and TCP holds the primary's
     * shipper. (64 of them, with the records parsed from a whole step kept until the step's
     * end, ran a standby 1 GB behind out of its 128 MiB heap.)
     */
    private final ArrayBlockingQueue<Message> inbox = new ArrayBlockingQueue<>(INBOX_MESSAGES);
    private static final int INBOX_MESSAGES = 8;

    // Writer-thread state.
    private final ArrayDeque<LogRecord> unfed = new ArrayDeque<>();
    private long toldCommitted;
    /** Set when shipped bytes were refused: later frames of the same connection are dropped. */
    private boolean broken;

    private volatile long held;
    private volatile long durable;
    private volatile String lastProblem = "";
    private final Object progress = new Object();

    /** What the applier needs from the store. */
    public record Parts(MainLog log, StreamTable table, TailIndex tail, RollListener rolls, Writer writer, StorageIo io,
                        Path dataDir, java.util.function.Consumer<LogRecord> fed) {}

    public StandbyApplier(Parts p, java.util.function.LongSupplier currentEpoch, java.util.function.LongConsumer afterApply) {
        this.log = p.log();
        this.table = p.table();
        this.tail = p.tail();
        this.rolls = p.rolls();
        this.writer = p.writer();
        this.io = p.io();
        this.dataDir = p.dataDir();
        this.currentEpoch = currentEpoch;
        this.afterApply = afterApply;
        this.fed = p.fed();
        this.held = log.writePosition();
        this.durable = log.durablePosition();
        this.toldCommitted = log.committedPosition();
    }

    // ------------------------------------------------------------------ network thread

    /** Queues shipped frames (waits while the inbox is full: backpressure onto the TCP stream). */
    public void offerFrames(long position, long committed, byte[] bytes) throws InterruptedException {
        inbox.put(new Frames(position, committed, bytes));
    }

    public void offerCommitted(long committed) throws InterruptedException {
        inbox.put(new Committed(committed));
    }

    /**
     * Asks for the log to be cut at {@code position} (the primary said our epoch ends there).
     * The answer: true when cut in place; false when the cut reaches records already fed to the
     * stream table, which needs the store reopened.
     */
    public CompletableFuture<Boolean> cut(long position) throws InterruptedException {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        inbox.put(new Cut(position, done));
        return done;
    }

    /** Completes when everything queued before it has been applied (and a new connection may say hello). */
    public CompletableFuture<Void> barrier() throws InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        inbox.put(new Barrier(done));
        return done;
    }

    private volatile Runnable onRefused = () -> {};

    /** Called on the writer thread when shipped bytes are refused: the follower drops its connection. */
    public void onRefused(Runnable r) {
        this.onRefused = r;
    }

    public long held() {
        return held;
    }

    public long durable() {
        return durable;
    }

    /** Why the last shipped bytes were refused, "" if none. */
    public String lastProblem() {
        return lastProblem;
    }

    /** Waits until held or durable differ from the given values, or the timeout. */
    public void awaitProgress(long h, long d, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (progress) {
            while (held == h && durable == d) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
        }
    }

    private void publish() {
        // The written position (what shipping sends up to) follows what was applied: once this
        // board is promoted its shippers and the epoch ends it tells standbys start from it, and
        // a stale one (where the store opened) made a rejoining standby's epoch end below
        // acknowledged events until the first append.
        log.publishWritten();
        long h = log.writePosition();
        long d = log.durablePosition();
        if (h != held || d != durable) {
            synchronized (progress) {
                held = h;
                durable = d;
                progress.notifyAll();
            }
        }
    }

    // ------------------------------------------------------------------ writer thread

    @Override
    public void step() throws IOException, InterruptedException {
        Message m = inbox.poll(100, TimeUnit.MILLISECONDS);
        if (m == null) {
            return;
        }
        int n = 0;
        do {
            apply(m);
            // Records the primary has acknowledged are fed (and let go) after each message, not
            // at the step's end: a catching-up standby's parsed records stay within one message.
            feedUpTo(Math.min(toldCommitted, log.writePosition()));
        } while (++n < INBOX_MESSAGES && (m = inbox.poll()) != null);
        // Held first (the primary's replica-memory acknowledgement waits for it), then forced.
        publish();
        feedUpTo(Math.min(toldCommitted, log.writePosition()));
        afterApply.accept(log.writePosition());
        if (log.hasUnforcedBytes()) {
            log.force();
            publish();
        }
    }

    private void apply(Message m) throws IOException {
        switch (m) {
            case Frames f -> applyFrames(f);
            case Committed c -> toldCommitted = Math.max(toldCommitted, c.position());
            case Cut c -> c.done().complete(cut(c));
            case Barrier b -> {
                broken = false;
                if (log.hasUnforcedBytes()) {
                    log.force();
                }
                publish();
                b.done().complete(null);
            }
        }
    }

    private void applyFrames(Frames f) throws IOException {
        if (broken) {
            return;
        }
        try {
            if (f.position() != log.writePosition()) {
                if (f.position() == log.currentSegmentEnd() + SegmentHeader.LENGTH) {
                    roll();
                } else {
                    throw new IllegalArgumentException("shipped frames at " + f.position()
                            + " but this log ends at " + log.writePosition());
                }
            }
            unfed.addAll(log.appendShipped(f.position(), MemorySegment.ofArray(f.bytes())));
            toldCommitted = Math.max(toldCommitted, f.committed());
        } catch (CorruptLogException | IllegalArgumentException e) {
            // Nothing was kept (appendShipped zeroes refused bytes); the follower drops the
            // connection and says hello again from what this board holds.
            broken = true;
            lastProblem = e.getMessage();
            Logger.error("refused shipped frames: {}", e.getMessage());
            onRefused.run();
        }
    }

    /** Mirrors the primary's roll; a checkpoint is handed over when the table is exact there. */
    private void roll() throws IOException {
        // Everything before the roll is forced by it; the table is exact at the new segment only
        // when every record held was fed (the primary has acknowledged them all).
        boolean exact = unfed.isEmpty() && toldCommitted >= log.writePosition();
        log.roll(System.currentTimeMillis());
        if (exact) {
            rolls.rolled(log.writePosition(), table.snapshot(), writer.recentIdsOnWriterThread());
        }
    }

    /** Feeds records before {@code limit} to the stream table and tail index, and commits them. */
    private void feedUpTo(long limit) {
        long[] one = new long[1];
        while (!unfed.isEmpty() && unfed.peekFirst().getPosition() < limit) {
            LogRecord r = unfed.pollFirst();
            table.put(r.getStream(), r.getVersion(), r.getPosition());
            one[0] = r.getPosition();
            tail.add(r.getStream(), r.getVersion(), one, 1, RecordFrame.frameLength(r.getSerializedSize()));
            writer.rememberRecovered(r.getEventId().toByteArray(), r.getStream(), r.getVersion(), r.getPosition());
            fed.accept(r);
        }
        long commit = unfed.isEmpty() ? Math.min(limit, log.writePosition()) : unfed.peekFirst().getPosition();
        if (commit > log.committedPosition()) {
            log.commit(commit);
        }
    }

    private boolean cut(Cut c) throws IOException {
        if (c.position() >= log.writePosition()) {
            return true;
        }
        if (c.position() < log.committedPosition()) {
            return false;
        }
        DivergentTail.save(io, dataDir, log, currentEpoch.getAsLong(), c.position());
        log.truncateTo(c.position());
        unfed.removeIf(r -> r.getPosition() >= c.position());
        publish();
        return true;
    }

    /** Promotion: everything held becomes this board's history (fed, committed, forced). */
    @Override
    public void finish() throws IOException {
        Message m;
        while ((m = inbox.poll()) != null) {
            // Frames that arrived before the follower stopped are history too; a barrier or cut
            // is answered so that nobody waits for it.
            apply(m);
        }
        if (log.hasUnforcedBytes()) {
            log.force();
        }
        feedUpTo(Long.MAX_VALUE);
        publish();
    }
}
