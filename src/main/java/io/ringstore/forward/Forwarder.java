package io.ringstore.forward;

import io.ringstore.log.MainLog;
import io.ringstore.log.PositionReclaimedException;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllSlice;
import io.ringstore.store.RingStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.tinylog.Logger;

/**
 * Forwards every {@code $all} event (what a read_all returns: metadata events included, events
 * hidden by their stream's limits left out) to a NATS JetStream stream, from a durable
 * checkpoint ({@link ForwardCheckpoint}), on a thread of its own.
 *
 * <p>A session: connect, check the stream, then read the log from the checkpoint and publish
 * asynchronously, at most {@code forward_max_in_flight} publishes (and
 * {@code forward_max_in_flight_bytes}) waiting for JetStream's acknowledgement. The checkpoint
 * moves only over publishes JetStream acknowledged, all of them below it ({@link AckWindow}),
 * and is written at most every {@link #CHECKPOINT_MILLIS} (and at a clean stop). Any failure
 * ends the session: the connection is closed, what was in flight is forgotten, and after a back
 * off (1 s, doubling to 60 s; reset once JetStream acknowledges again) a new session starts from
 * the checkpoint. Events sent twice that way carry the same {@code Nats-Msg-Id}, so JetStream
 * keeps one (within its duplicate window).
 *
 * <p>The log keeps what the forwarder still needs: a hold on the main log at the checkpoint
 * binds retention, except when the disk budget forces a reclaim; the forwarder is then told the
 * positions that went, says so loudly in the journal, counts them in status and the checkpoint,
 * and goes on from the oldest position still stored.
 */
public final class Forwarder implements Runnable {
    /** How often an advanced checkpoint is written (each write is two forces on the card). */
    static final long CHECKPOINT_MILLIS = 500;
    static final long FIRST_BACKOFF_MILLIS = 1_000;
    static final long MAX_BACKOFF_MILLIS = 60_000;
    /** How long a caught-up forwarder waits for new events before it looks at the link again. */
    private static final long IDLE_WAIT_MILLIS = 200;

    private final ForwardOptions options;
    private final RingStore store;
    private final MainLog log;
    private final StorageIo io;
    private final Path dir;
    private final String board;
    private final Object sleep = new Object();
    private final AckWindow window = new AckWindow();
    private volatile boolean stopping;
    private volatile ForwardState state = ForwardState.CONNECTING;
    private volatile String lastError;
    /** Acknowledged by JetStream below this; the log's hold floor; what the checkpoint file gets. */
    private volatile long position;
    private volatile long forwarded;
    private volatile long skippedBytes;
    private volatile String skipped;
    private volatile long duplicates;
    /** The end of the last skip counted (forwarder thread). */
    private long skippedUpTo;
    private long writtenPosition = -1;
    private long lastWriteMillis;
    private long backoffMillis = FIRST_BACKOFF_MILLIS;
    private MainLog.ReclaimHold hold;
    private Thread thread;

    private Forwarder(ForwardOptions options, RingStore store, String board) {
        this.options = options;
        this.store = store;
        this.log = store.log();
        this.io = store.config().io();
        this.dir = store.config().dataDir();
        this.board = board;
    }

    /**
     * Reads the checkpoint, holds the log from it, and starts the thread. A damaged checkpoint
     * leaves the forwarder FAILED (journal and status say why; the daemon serves on).
     */
    public static Forwarder start(ForwardOptions options, RingStore store, String board) {
        Forwarder f = new Forwarder(options, store, board);
        try {
            ForwardCheckpoint.State s = ForwardCheckpoint.read(f.io, f.dir);
            f.position = s.position();
            f.forwarded = s.forwarded();
            f.skippedBytes = s.skippedBytes();
            f.writtenPosition = s.position();
        } catch (IOException e) {
            f.state = ForwardState.FAILED;
            f.lastError = e.getMessage();
            Logger.error("forward: not forwarding: {}", e.getMessage());
            return f;
        }
        // Before the thread runs: from now on retention keeps the log from the checkpoint on.
        f.hold = f.log.hold("forward", () -> f.position, true, f::reclaimedUnderUs);
        Logger.info("forward: to JetStream stream {} at {} subjects {} from position {} ({} forwarded so far)",
                options.stream(), options.urlsForDisplay(), options.subjects().pattern(), f.position, f.forwarded);
        f.thread = Thread.ofPlatform().name("ringstore-forward").daemon().start(f);
        return f;
    }

    @Override
    public void run() {
        while (!stopping) {
            setState(ForwardState.CONNECTING, null);
            try (NatsLink link = NatsLink.open(options, board)) {
                session(link);
            } catch (NatsLink.LinkException e) {
                fail(e.getMessage());
            } catch (InterruptedException e) {
                if (!stopping) {
                    fail("interrupted");
                }
            } catch (LinkLost e) {
                fail(e.getMessage());
            } catch (RuntimeException e) {
                // A bug or an unexpected answer: say it and try again later, never limp on.
                fail(NatsLink.causes(e));
                Logger.error(e, "forward: unexpected failure");
            }
            window.clear();
            if (stopping) {
                break;
            }
            pause(backoffMillis);
            backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        }
        // An interrupt (a stop that waited too long) would make the checkpoint's channel refuse.
        Thread.interrupted();
        writeCheckpoint(true);
        state = ForwardState.STOPPED;
    }

    /** A session ended because the link did (timeout, lost connection, refused publish). */
    private static final class LinkLost extends Exception {
        LinkLost(String message) {
            super(message);
        }
    }

    private void session(NatsLink link) throws InterruptedException, LinkLost {
        setState(ForwardState.FORWARDING, null);
        Logger.info("forward: connected to {}, JetStream stream {} ready; forwarding from position {}",
                link.serverUrl(), options.stream(), position);
        long readFrom = position;
        while (!stopping) {
            drain();
            if (!link.connected()) {
                throw new LinkLost("connection to NATS lost");
            }
            AckWindow.Entry oldest = window.oldest();
            if (oldest != null && oldest.ack() != null
                    && System.nanoTime() - oldest.sentNanos() > options.ackTimeoutMillis() * 1_000_000L) {
                throw new LinkLost("JetStream did not acknowledge a publish within " + options.ackTimeoutMillis() + " ms");
            }
            int room = Math.min(options.batch(), options.maxInFlight() - window.publishes());
            if (room <= 0 || window.bytes() >= options.maxInFlightBytes()) {
                awaitOldest();
                continue;
            }
            AllSlice page;
            try {
                page = store.readAll(readFrom, room);
            } catch (PositionReclaimedException e) {
                // The disk budget took segments this forwarder held (reclaimedUnderUs said so
                // as it happened); go on from what is still stored.
                long oldest2 = e.oldestPosition();
                if (oldest2 <= readFrom) {
                    throw e;
                }
                noteSkipped(readFrom, oldest2);
                window.add(oldest2, 0, null, System.nanoTime());
                readFrom = oldest2;
                continue;
            }
            long now = System.nanoTime();
            var records = page.records();
            for (int i = 0; i < records.size(); i++) {
                LogRecord r = records.get(i);
                long next = i + 1 < records.size() ? records.get(i + 1).getPosition() : page.next();
                java.util.concurrent.CompletableFuture<Boolean> ack;
                try {
                    ack = link.publish(r);
                } catch (RuntimeException e) {
                    // jnats refuses at once on a closed connection or an event past the
                    // server's max_payload (that one stops forwarding until the limit is raised).
                    throw new LinkLost("publishing position " + r.getPosition() + " failed: " + NatsLink.causes(e));
                }
                window.add(next, r.getData().size(), ack, now);
            }
            if (records.isEmpty() && page.next() > readFrom) {
                // Only hidden events: nothing to send, but the checkpoint may pass them.
                window.add(page.next(), 0, null, now);
            }
            readFrom = page.next();
            if (page.end()) {
                drain();
                if (window.isEmpty()) {
                    writeCheckpoint(false);
                    store.awaitCommittedBeyond(readFrom, IDLE_WAIT_MILLIS);
                } else {
                    awaitOldest();
                }
            }
        }
    }

    /** Takes the acknowledged run off the window and moves the checkpoint over it. */
    private void drain() throws LinkLost {
        AckWindow.Drained d;
        try {
            d = window.drain();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (e instanceof java.util.concurrent.CancellationException || cause instanceof java.util.concurrent.CancellationException) {
                // jnats cancels what is in flight when the connection goes.
                throw new LinkLost("connection to NATS lost (publishes in flight cancelled)");
            }
            throw new LinkLost("JetStream refused a publish: " + NatsLink.causes(cause));
        }
        if (d.position() >= 0) {
            if (d.events() > 0) {
                // JetStream answers again: the next failure starts its back off from the beginning.
                backoffMillis = FIRST_BACKOFF_MILLIS;
            }
            forwarded += d.events();
            duplicates += d.duplicates();
            position = d.position();
            writeCheckpoint(false);
        }
    }

    /** Waits (briefly) for the oldest publish's acknowledgement. */
    private void awaitOldest() throws InterruptedException {
        AckWindow.Entry oldest = window.oldest();
        if (oldest == null || oldest.ack() == null) {
            return;
        }
        try {
            oldest.ack().get(50, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
            // drain() and the timeout check see it
        }
    }

    /** Writes the checkpoint when it moved and the last write is old enough (or {@code now}). */
    private void writeCheckpoint(boolean now) {
        long p = position;
        long nowMillis = System.currentTimeMillis();
        if (p == writtenPosition || (!now && nowMillis - lastWriteMillis < CHECKPOINT_MILLIS)) {
            return;
        }
        try {
            ForwardCheckpoint.write(io, dir, new ForwardCheckpoint.State(p, forwarded, skippedBytes));
            writtenPosition = p;
            lastWriteMillis = nowMillis;
        } catch (IOException e) {
            // Only costs resends after a crash (JetStream drops them); the log keeps what is held.
            Logger.warn("forward: writing the checkpoint failed: position={} error={}", p, e.toString());
            lastWriteMillis = nowMillis;
        }
    }

    /**
     * Called by reclaim (the splitter's or the compactor's thread) when the disk budget deletes
     * segments above the hold: those events will never be forwarded. Loud, once per reclaim.
     */
    private void reclaimedUnderUs(long from, long to) {
        Logger.error("forward: the disk budget reclaimed log positions {}..{} before they were forwarded to JetStream: "
                + "those events are lost to JetStream (the forwarder was {} events / {} bytes behind; state={} "
                + "last_error={})", from, to, lagEventsFrom(position), Math.max(0, log.committedPosition() - position),
                state.configName(), lastError);
    }

    /**
     * Counts a skip once: a session that fails before the checkpoint passes the gap meets it again
     * in the next session (or, after a crash, the next run, whose counts come from the checkpoint
     * written before the skip was noted).
     */
    private void noteSkipped(long from, long to) {
        from = Math.max(from, skippedUpTo);
        if (to <= from) {
            return;
        }
        skippedUpTo = to;
        skippedBytes += to - from;
        skipped = from + ".." + to;
        Logger.error("forward: SKIPPED log positions {}..{} ({} bytes): reclaimed by the disk budget before they were "
                + "forwarded; going on from {}", from, to, to - from, to);
    }

    private void fail(String why) {
        setState(ForwardState.BACKING_OFF, why);
    }

    /**
     * Sets the state. The journal gets one line per change, not one per retry: a failure is
     * logged when it is new (another reason than the last one logged) or ends a session that
     * was forwarding; reaching FORWARDING is logged by the session, and makes the next failure
     * new again.
     */
    private void setState(ForwardState next, String error) {
        ForwardState before = state;
        if (error != null) {
            lastError = error;
        }
        state = next;
        if (next == ForwardState.FORWARDING) {
            loggedError = null;
        } else if (next == ForwardState.BACKING_OFF && (before == ForwardState.FORWARDING || !error.equals(loggedError))) {
            loggedError = error;
            Logger.warn("forward: {}; retrying in {} s, backing off to {} s while it fails (said once)", error,
                    backoffMillis / 1000, MAX_BACKOFF_MILLIS / 1000);
        }
    }

    /** The failure last written to the journal; null once forwarding again. */
    private String loggedError;

    private void pause(long millis) {
        synchronized (sleep) {
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (!stopping) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return;
                }
                try {
                    sleep.wait(left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private long lagEventsFrom(long from) {
        return log.countRecords(from, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /** The forwarder as status shows it. Any thread. */
    public ForwardStatus status() {
        long p = position;
        long committed = store.committedPosition();
        long lagBytes = Math.max(0, committed - Math.max(p, safeOldest()));
        long lagEvents = lagBytes == 0 ? 0 : lagEventsFrom(p);
        double lagSeconds = 0;
        if (lagEvents > 0) {
            try {
                var b = store.readLog(p, 1);
                if (!b.records().isEmpty()) {
                    lagSeconds = Math.max(0, System.currentTimeMillis() / 1e3 - b.records().getFirst().getTimestampMicros() / 1e6);
                }
            } catch (RuntimeException e) {
                // reclaimed meanwhile: no age to give
            }
        }
        return new ForwardStatus(state, options.urlsForDisplay(), options.stream(), p, forwarded, lagEvents, lagBytes,
                lagSeconds, lastError, skippedBytes, skipped, duplicates);
    }

    private long safeOldest() {
        try {
            return log.oldestPosition();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * Stops the thread (it closes the link and writes the checkpoint), then lets go of the log.
     * Call before the store closes.
     */
    public void stop() {
        stopping = true;
        synchronized (sleep) {
            sleep.notifyAll();
        }
        if (thread != null) {
            // Every wait of the thread is bounded (a connect by forward_connect_timeout_ms): no interrupt unless it hangs.
            try {
                if (!thread.join(java.time.Duration.ofMillis(options.connectTimeoutMillis() + 5_000))) {
                    Logger.warn("forward: thread did not stop in time, interrupting it");
                    thread.interrupt();
                    thread.join(java.time.Duration.ofSeconds(5));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (hold != null) {
            log.release(hold);
        }
        Logger.info("forward: stopped at position {} ({} forwarded)", position, forwarded);
    }
}
