package io.ringstore.server;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.CaughtUp;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.protocol.v1.SubscriptionConfirmed;
import io.ringstore.protocol.v1.SubscriptionUpdate;
import io.ringstore.read.AllSlice;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;

/**
 * One subscription, on its own virtual thread: catch up from storage, then follow the log live.
 *
 * <p>It is driven by positions, never by a feed pushed from the writer, so the switch from
 * catch-up to live has no gap and no duplicate: the thread reads {@code $all} from where its
 * last page ended and, when a read reaches the committed position, waits until the writer
 * commits beyond it ({@link RingStore#awaitCommittedBeyond}). "Live" is just a catch-up that
 * has nothing left to read. Both parts read through {@link RingStore#readAll}, so neither
 * delivers an event that a stream read would not return when its page is read (events past a
 * stream's retention limits); a page that skipped only such events comes back empty but not at
 * the end, and the thread reads on at once from its next position.
 *
 * <p>A stream subscription from a version first pages through {@link RingStore#readStream},
 * then follows {@code $all} from the committed position taken before its last page, keeping
 * only events of its stream whose version it has not delivered yet (versions of a stream grow
 * with positions, so this is exact).
 *
 * <p>Memory: events go to the connection's outbound, each holding bytes of this subscription's
 * buffer until it has been written to the socket. When the buffer stays full for the configured
 * time (the client stopped reading), the subscriber is told SUBSCRIBER_TOO_SLOW with the
 * position of the last event delivered, from which it can resume, and dropped. A subscriber that
 * reads slowly but steadily only lags in storage, which costs no memory here.
 *
 * <p>Never interrupted (an interrupt during a file read would close the store's shared
 * channel); it stops by a flag it checks at least every {@link #POLL_MILLIS}, and at once when
 * live ({@link #stop} wakes its wait for the next commit).
 */
final class Subscription implements Runnable {
    static final long POLL_MILLIS = 200;
    private static final int READ_BATCH = 256;
    private static final int STREAM_PAGE = 512;

    enum StopReason { UNSUBSCRIBED, CONNECTION_CLOSED, SHUTTING_DOWN }

    /** Thrown inside the thread to unwind when it was asked to stop. */
    private static final class Stopped extends Exception {
        Stopped() {
            super(null, null, false, false);
        }
    }

    private final Connection connection;
    private final RingStore store;
    private final long id;
    private final SubscribeRequest request;
    private final Runnable releaseRequest;
    private final boolean all;
    private final String stream;
    private final Semaphore buffer;
    private final int bufferBytes;
    private final long slowMillis;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile StopReason stopReason;

    /**
     * Test seam: runs between taking the committed position and reading a stream page, the
     * window in which an append lands in both the page and the {@code $all} tail after it.
     */
    static volatile Runnable betweenSnapshotAndStreamRead;

    private long lastDelivered = -1;
    private long nextVersion;

    private Subscription(Connection connection, RingStore store, long id, SubscribeRequest request, Runnable release) {
        this.connection = connection;
        this.store = store;
        this.id = id;
        this.request = request;
        this.releaseRequest = release;
        this.all = request.getStream().isEmpty() || request.getStream().equals("$all");
        this.stream = all ? "$all" : request.getStream();
        ServerConfig c = connection.server().config();
        this.bufferBytes = c.subscriberBufferBytes();
        this.buffer = new Semaphore(bufferBytes);
        this.slowMillis = c.slowSubscriberMillis();
    }

    /** Validates and starts a subscription; every failure is answered with the request's id. */
    static void start(Connection connection, RingStore store, long id, SubscribeRequest request, Runnable release) {
        Subscription s = new Subscription(connection, store, id, request, release);
        if (!s.all && request.getStream().startsWith("$")) {
            throw RingStoreException.invalid("no such system stream: stream=" + request.getStream());
        }
        if (s.all && request.getFromCase() == SubscribeRequest.FromCase.FROM_VERSION) {
            throw RingStoreException.invalid("from_version applies to stream subscriptions, not $all");
        }
        if (!connection.addSubscription(s)) {
            throw new RingStoreException(ErrorCode.TOO_MANY_SUBSCRIPTIONS, "too many subscriptions on this connection: id="
                    + id + " max=" + connection.server().config().maxSubscriptions());
        }
        Thread.ofVirtual().name("ringstore-sub-" + connection.number() + "-" + id).start(s);
    }

    long id() {
        return id;
    }

    void stop(StopReason reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
        // Live, the thread waits for the next commit: wake it to see the flag now, so that an
        // unsubscribe is answered at once rather than after its wait.
        store.wakeCommitWaiters();
    }

    void awaitEnd() {
        boolean interrupted = false;
        while (true) {
            try {
                ended.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        boolean confirmed = false;
        try {
            long committed = store.committedPosition();
            long skipUpTo = -1;
            long tailFrom;
            switch (request.getFromCase()) {
                case FROM_END -> tailFrom = committed;
                case AFTER_POSITION -> {
                    skipUpTo = request.getAfterPosition();
                    tailFrom = checkResumePosition(skipUpTo, committed);
                }
                case FROM_VERSION -> tailFrom = -1;
                case FROM_START, FROM_NOT_SET -> tailFrom = all ? 0 : -1;
                default -> throw new IllegalStateException("unknown from: " + request.getFromCase());
            }
            send(Response.newBuilder().setId(id).setSubscription(update()
                    .setConfirmed(SubscriptionConfirmed.newBuilder().setCommittedPosition(committed))).build(), releaseRequest);
            confirmed = true;
            if (tailFrom < 0) {
                long from = request.getFromCase() == SubscribeRequest.FromCase.FROM_VERSION ? request.getFromVersion() : 0;
                if (from < 0) {
                    throw RingStoreException.invalid("from_version out of range: " + Long.toUnsignedString(from));
                }
                tailFrom = catchUpStream(from);
            }
            follow(tailFrom, skipUpTo);
        } catch (Stopped e) {
            if (stopReason == StopReason.UNSUBSCRIBED) {
                // No final message: the id is free once the subscription ends (before the
                // unsubscribe's answer goes out, so the client may reuse it then).
                connection.requestIdDone(id);
            }
            if (stopReason == StopReason.SHUTTING_DOWN) {
                endWith(ErrorCode.SHUTTING_DOWN, "the daemon is stopping");
            }
        } catch (RingStoreException e) {
            endWith(e.code(), e.getMessage());
        } catch (IllegalArgumentException e) {
            endWith(ErrorCode.INVALID_REQUEST, e.getMessage());
        } catch (RuntimeException e) {
            Logger.error(e, "{} subscription failed: id={} stream={}", connection.name(), id, stream);
            endWith(ErrorCode.STORAGE_ERROR, "subscription failed: " + e);
        } finally {
            if (!confirmed) {
                releaseRequest.run();
            }
            connection.subscriptionEnded(this);
            ended.countDown();
        }
    }

    /** Checks that {@code after} is the position of a stored event; returns where to read from. */
    private long checkResumePosition(long after, long committed) {
        if (after < 0 || after >= committed) {
            throw RingStoreException.invalid(io.ringstore.error.InvalidDetail.NOT_AN_EVENT_POSITION,
                    "after_position is not a stored event: after_position="
                    + Long.toUnsignedString(after) + " committed=" + committed);
        }
        // The log as stored: an event hidden by a limit since it was delivered is still a
        // valid place to resume after.
        MainLog.ReadBatch b = store.readLog(after, 1);
        if (b.records().isEmpty() || b.records().getFirst().getPosition() != after) {
            throw RingStoreException.invalid(io.ringstore.error.InvalidDetail.NOT_AN_EVENT_POSITION,
                    "after_position is not the position of an event: after_position=" + after);
        }
        return after;
    }

    /** Pages through the stream from {@code fromVersion}; returns the position to follow {@code $all} from. */
    private long catchUpStream(long fromVersion) throws Stopped {
        nextVersion = fromVersion;
        while (true) {
            checkStopped();
            long committedBefore = store.committedPosition();
            Runnable seam = betweenSnapshotAndStreamRead;
            if (seam != null) {
                seam.run();
            }
            StreamSlice slice;
            try {
                slice = store.readStream(stream, nextVersion, STREAM_PAGE, Direction.FORWARD);
            } catch (RingStoreException e) {
                if (e.code() == ErrorCode.STREAM_NOT_FOUND) {
                    return committedBefore;
                }
                throw e;
            }
            for (LogRecord r : slice.events()) {
                if (r.getVersion() >= nextVersion) {
                    deliver(r);
                }
            }
            if (slice.endOfStream()) {
                return committedBefore;
            }
            if (slice.events().isEmpty()) {
                // A page can be empty and still move on (its range was below the first visible
                // version): read on from where it says, as a stream read does; stop only when it
                // makes no progress.
                if (slice.nextVersion() <= nextVersion) {
                    return committedBefore;
                }
                nextVersion = slice.nextVersion();
            }
        }
    }

    /** Reads {@code $all} from {@code position} for ever: catch-up, then live. */
    private void follow(long position, long skipUpTo) throws Stopped {
        boolean caughtUp = false;
        while (true) {
            checkStopped();
            AllSlice page = store.readAll(position, READ_BATCH);
            for (LogRecord r : page.records()) {
                if (r.getPosition() > skipUpTo && wanted(r)) {
                    deliver(r);
                }
            }
            position = page.next();
            if (page.end()) {
                if (!caughtUp) {
                    caughtUp = true;
                    sendHeld(Response.newBuilder().setId(id).setSubscription(update()
                            .setCaughtUp(CaughtUp.newBuilder().setPosition(position))).build());
                }
                try {
                    store.awaitCommittedBeyond(position, POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Stopped();
                }
            }
        }
    }

    /** An update; on a standby it says how far behind the primary it is (as every read answer does). */
    private SubscriptionUpdate.Builder update() {
        SubscriptionUpdate.Builder b = SubscriptionUpdate.newBuilder();
        long behind = store.standbyBehindBytes();
        if (behind >= 0) {
            b.setStandbyBehindBytes(behind);
        }
        return b;
    }

    private boolean wanted(LogRecord r) {
        return all || (r.getStream().equals(stream) && r.getVersion() >= nextVersion);
    }

    private void deliver(LogRecord r) throws Stopped {
        sendHeld(Response.newBuilder().setId(id)
                .setSubscription(update().setEvent(Wire.event(r))).build());
        lastDelivered = r.getPosition();
        nextVersion = r.getVersion() + 1;
    }

    /** Sends through the buffer: waits for room, and drops the subscriber when none comes in time. */
    private void sendHeld(Response response) throws Stopped {
        int permits = Math.min(response.getSerializedSize(), bufferBytes);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(slowMillis);
        try {
            while (!buffer.tryAcquire(permits, Math.min(POLL_MILLIS, slowMillis), TimeUnit.MILLISECONDS)) {
                checkStopped();
                if (System.nanoTime() - deadline > 0) {
                    drop();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stopped();
        }
        send(response, () -> buffer.release(permits));
    }

    private void drop() throws Stopped {
        Logger.warn("subscriber too slow, dropped: {} id={} stream={} bufferBytes={} waitedMillis={} lastPosition={}",
                connection, id, stream, bufferBytes, slowMillis, lastDelivered);
        endWith(ErrorCode.SUBSCRIBER_TOO_SLOW, "subscriber did not read for " + slowMillis + " ms with "
                + bufferBytes + " bytes queued; resume after the last position received");
        stopReason = StopReason.CONNECTION_CLOSED;
        throw new Stopped();
    }

    private void endWith(ErrorCode code, String message) {
        io.ringstore.protocol.v1.Error.Builder e = Wire.error(code, message).toBuilder();
        if (lastDelivered >= 0) {
            e.setResumeAfterPosition(lastDelivered);
        }
        send(Response.newBuilder().setId(id).setError(e).build(), null);
    }

    private void send(Response response, Runnable release) {
        connection.send(response, release);
    }

    private void checkStopped() throws Stopped {
        if (stopReason != null) {
            throw new Stopped();
        }
    }
}
