package io.ringstore.client;

import com.google.protobuf.ByteString;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.protocol.Framing;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.AppendResponse;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusRequest;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.protocol.v1.UnsubscribeRequest;
import io.ringstore.read.Direction;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * A connection to a ringstore daemon over its Unix socket. Thread-safe and pipelined: every call
 * sends its request at once and returns a future, so many can be in flight; a reading thread
 * completes them as answers arrive, in any order. Failures complete the futures with
 * {@link RingStoreException} (typed: {@link WrongExpectedVersionException} carries the current
 * version) or {@link ConnectionLostException}.
 *
 * <pre>{@code
 * try (RingStoreClient c = RingStoreClient.connect(Path.of("/run/ringstore/ringstore.sock"))) {
 *     c.append("sensor-1", ExpectedVersion.ANY, List.of(EventData.of("reading", bytes))).join();
 * }
 * }</pre>
 */
public final class RingStoreClient implements AutoCloseable {
    /** Answers can hold up to about a MiB of events, or one event of up to 4 MiB. */
    public static final int MAX_RESPONSE_BYTES = 64 << 20;

    private final SocketChannel channel;
    private final Path socket;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final Map<Long, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Framing.Writer frames = new Framing.Writer(4096);
    private final Thread reader;
    private volatile ConnectionLostException lost;
    /** Why the daemon said it closes the connection (an error with id 0), if it said so. */
    private volatile RuntimeException refusal;

    private record Pending(CompletableFuture<Object> future, Function<Response, Object> onResponse) {}

    private RingStoreClient(SocketChannel channel, Path socket) {
        this.channel = channel;
        this.socket = socket;
        // A platform thread blocked in read: cheaper per answer than a virtual thread woken by
        // the JDK's poller (measured with the socket bench).
        this.reader = Thread.ofPlatform().name("ringstore-client-reader").daemon().unstarted(this::readLoop);
    }

    /**
     * Connects to the daemon's socket.
     *
     * @throws IOException when nothing listens there, or this user may not open it
     */
    public static RingStoreClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        RingStoreClient c = new RingStoreClient(ch, socket);
        c.reader.start();
        return c;
    }

    // ------------------------------------------------------------------ operations

    /** Appends events to one stream atomically. */
    public CompletableFuture<AppendResult> append(String stream, ExpectedVersion expected, List<EventData> events) {
        AppendRequest.Builder a = AppendRequest.newBuilder().setStream(stream);
        Wire.expected(a, expected);
        for (EventData e : events) {
            NewEvent.Builder n = NewEvent.newBuilder().setType(e.type()).setData(ByteString.copyFrom(e.data()))
                    .setMetadata(ByteString.copyFrom(e.metadata()));
            if (e.eventId() != null) {
                n.setEventId(ByteString.copyFrom(e.eventId()));
            }
            a.addEvents(n);
        }
        return call(Request.newBuilder().setAppend(a), r -> {
            AppendResponse x = r.getAppend();
            return new AppendResult(x.getStream(), x.getFirstVersion(), x.getLastVersion(), x.getFirstPosition(),
                    x.getLastPosition(), Wire.durability(x.getDurability()), x.getReplayed(),
                    Wire.ackMode(x.getAckMode()), x.getSolo());
        }, stream, expected);
    }

    /** Reads a page of one stream ({@code fromVersion} -1 with BACKWARD: from the end). */
    public CompletableFuture<StreamPage> readStream(String stream, long fromVersion, int maxCount, Direction direction) {
        ReadStreamRequest.Builder r = ReadStreamRequest.newBuilder().setStream(stream).setFromVersion(fromVersion)
                .setMaxCount(maxCount)
                .setDirection(direction == Direction.FORWARD ? io.ringstore.protocol.v1.Direction.FORWARD
                        : io.ringstore.protocol.v1.Direction.BACKWARD);
        return call(Request.newBuilder().setReadStream(r), x -> new StreamPage(events(x.getReadStream().getEventsList()),
                x.getReadStream().getLastVersion(), x.getReadStream().getNextVersion(),
                x.getReadStream().getEndOfStream()), stream, null);
    }

    /** Reads a page of the {@code $all} order from a position (0: the start). */
    public CompletableFuture<AllPage> readAll(long fromPosition, int maxCount) {
        return call(Request.newBuilder().setReadAll(ReadAllRequest.newBuilder().setFromPosition(fromPosition)
                .setMaxCount(maxCount)), x -> new AllPage(events(x.getReadAll().getEventsList()),
                x.getReadAll().getNextPosition(), x.getReadAll().getEnd()), null, null);
    }

    /** Sets a stream's own retention limits; completes with the metadata event's position. */
    public CompletableFuture<Long> setStreamLimits(String stream, io.ringstore.protocol.v1.StreamLimits limits) {
        return call(Request.newBuilder().setSetStreamLimits(io.ringstore.protocol.v1.SetStreamLimitsRequest.newBuilder()
                .setStream(stream).setLimits(limits)), r -> r.getSetStreamLimits().getPosition(), stream, null);
    }

    /** Deletes a stream, soft or hard (a tombstone); completes with the metadata event's position. */
    public CompletableFuture<Long> deleteStream(String stream, boolean hard) {
        return deleteStream(stream, hard, ExpectedVersion.ANY);
    }

    /**
     * Deletes a stream only if its last version is what {@code expected} says; otherwise fails
     * with {@link io.ringstore.error.WrongExpectedVersionException} and nothing is deleted.
     */
    public CompletableFuture<Long> deleteStream(String stream, boolean hard, ExpectedVersion expected) {
        io.ringstore.protocol.v1.DeleteStreamRequest.Builder b = io.ringstore.protocol.v1.DeleteStreamRequest.newBuilder()
                .setStream(stream).setHard(hard);
        Wire.expected(b, expected);
        return call(Request.newBuilder().setDeleteStream(b), r -> r.getDeleteStream().getPosition(), stream, expected);
    }

    /** A stream's own and effective limits, and whether it is hard-deleted. */
    public CompletableFuture<io.ringstore.protocol.v1.GetStreamLimitsResponse> getStreamLimits(String stream) {
        return call(Request.newBuilder().setGetStreamLimits(io.ringstore.protocol.v1.GetStreamLimitsRequest.newBuilder()
                .setStream(stream)), Response::getGetStreamLimits, stream, null);
    }

    public CompletableFuture<StatusResponse> status() {
        return call(Request.newBuilder().setStatus(StatusRequest.getDefaultInstance()), Response::getStatus, null, null);
    }

    /**
     * Makes the daemon's board (a standby) the primary in a new epoch; refused (INVALID_REQUEST,
     * saying what may be lost) when that is not known to be safe, unless {@code force}.
     */
    public CompletableFuture<io.ringstore.protocol.v1.PromoteResponse> promote(boolean force) {
        return call(Request.newBuilder().setPromote(io.ringstore.protocol.v1.PromoteRequest.newBuilder().setForce(force)),
                Response::getPromote, null, null);
    }

    /**
     * Asks the daemon's splitter to move everything committed now to the stream files (needs
     * write access); answers with the status as of the request.
     */
    public CompletableFuture<StatusResponse> drainSplitter() {
        return call(Request.newBuilder().setStatus(StatusRequest.newBuilder().setDrainSplitter(true)),
                Response::getStatus, null, null);
    }

    /**
     * The operator's {@code ringstore replication solo} (true) or {@code paired} (false): see
     * {@code SetSoloRequest} in the protocol. Needs write access; INVALID_REQUEST when the
     * daemon's ack mode is local.
     */
    public CompletableFuture<io.ringstore.protocol.v1.SetSoloResponse> setSolo(boolean solo) {
        return call(Request.newBuilder().setSetSolo(io.ringstore.protocol.v1.SetSoloRequest.newBuilder().setSolo(solo)),
                Response::getSetSolo, null, null);
    }

    /** Completes when the daemon answered. */
    public CompletableFuture<Void> ping() {
        return call(Request.newBuilder().setPing(PingRequest.getDefaultInstance()), r -> null, null, null);
    }

    /**
     * Subscribes to a stream, or to every stream with {@code "$all"}. Events go to
     * {@code listener} on this client's reading thread.
     */
    public Subscription subscribe(String stream, SubscribeFrom from, SubscriptionListener listener) {
        SubscribeRequest.Builder s = SubscribeRequest.newBuilder().setStream(stream);
        switch (from) {
            case SubscribeFrom.Start x -> s.setFromStart(true);
            case SubscribeFrom.End x -> s.setFromEnd(true);
            case SubscribeFrom.AfterPosition x -> s.setAfterPosition(x.position());
            case SubscribeFrom.FromVersion x -> s.setFromVersion(x.version());
        }
        long id = ids.incrementAndGet();
        Subscription sub = new Subscription(this, id, listener);
        subscriptions.put(id, sub);
        try {
            send(Request.newBuilder().setSubscribe(s).setId(id).build());
        } catch (ConnectionLostException e) {
            subscriptions.remove(id);
            sub.end(e);
        }
        return sub;
    }

    CompletableFuture<Void> unsubscribe(long subscriptionId) {
        return call(Request.newBuilder().setUnsubscribe(UnsubscribeRequest.newBuilder().setSubscriptionId(subscriptionId)),
                r -> null, null, null);
    }

    void forget(long subscriptionId) {
        subscriptions.remove(subscriptionId);
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socket;
    }

    // ------------------------------------------------------------------ plumbing

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> call(Request.Builder request, Function<Response, T> onResponse, String stream,
                                          ExpectedVersion expected) {
        long id = ids.incrementAndGet();
        CompletableFuture<Object> future = new CompletableFuture<>();
        pending.put(id, new Pending(future, r -> {
            if (r.getResultCase() == Response.ResultCase.ERROR) {
                throw exception(r.getError(), stream, expected);
            }
            return onResponse.apply(r);
        }));
        try {
            send(request.setId(id).build());
        } catch (ConnectionLostException e) {
            pending.remove(id);
            future.completeExceptionally(e);
        }
        if (lost != null && pending.remove(id) != null) {
            future.completeExceptionally(lost);
        }
        return (CompletableFuture<T>) (CompletableFuture<?>) future;
    }

    private void send(Request request) {
        ConnectionLostException l = lost;
        if (l != null) {
            throw l;
        }
        writeLock.lock();
        try {
            frames.add(request);
            ByteBuffer b = frames.buffer();
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw connectionLost("sending to the daemon failed", e);
        } finally {
            frames.reset(1 << 20);
            writeLock.unlock();
        }
    }

    private void readLoop() {
        Framing.Reader in = new Framing.Reader(channel, 64 << 10);
        IOException cause = null;
        String why = "the daemon closed the connection";
        try {
            while (true) {
                int length = in.readLength(MAX_RESPONSE_BYTES);
                if (length < 0) {
                    break;
                }
                Response r = Response.parseFrom(in.readBody(length));
                if (r.getId() == 0 && r.getResultCase() == Response.ResultCase.ERROR) {
                    // The daemon refused the connection or a frame and is closing it.
                    refusal = exception(r.getError());
                    why = "the daemon closed the connection: " + r.getError().getCode() + " " + r.getError().getMessage();
                    continue;
                }
                Subscription sub = subscriptions.get(r.getId());
                if (sub != null) {
                    if (sub.on(r)) {
                        subscriptions.remove(r.getId());
                    }
                    continue;
                }
                Pending p = pending.remove(r.getId());
                if (p != null) {
                    complete(p, r);
                }
            }
        } catch (IOException e) {
            cause = e;
            why = "reading from the daemon failed: " + e;
        }
        connectionLost(why, cause);
    }

    private static void complete(Pending p, Response r) {
        try {
            p.future().complete(p.onResponse().apply(r));
        } catch (RuntimeException e) {
            p.future().completeExceptionally(e);
        }
    }

    private ConnectionLostException connectionLost(String why, IOException cause) {
        ConnectionLostException e;
        synchronized (this) {
            if (lost == null) {
                lost = new ConnectionLostException(why + " (socket=" + socket + ")", cause);
            }
            e = lost;
        }
        // What was in flight when the daemon refused (e.g. FRAME_TOO_LARGE) fails with that typed error.
        RuntimeException failure = refusal != null ? refusal : e;
        for (Long id : new ArrayList<>(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future().completeExceptionally(failure);
            }
        }
        for (Long id : new ArrayList<>(subscriptions.keySet())) {
            Subscription s = subscriptions.remove(id);
            if (s != null) {
                s.end(e);
            }
        }
        return e;
    }

    /** The exception for a wire error; an append's WRONG_EXPECTED_VERSION becomes its typed form. */
    static RuntimeException exception(io.ringstore.protocol.v1.Error error, String stream, ExpectedVersion expected) {
        ErrorCode code = Wire.code(error.getCode());
        if (code == ErrorCode.WRONG_EXPECTED_VERSION && error.hasCurrentVersion()) {
            return new WrongExpectedVersionException(stream, expected == null ? "?" : expected.toString(),
                    error.getCurrentVersion());
        }
        if (code == ErrorCode.NOT_PRIMARY) {
            return Wire.notPrimary(error);
        }
        return new RingStoreException(code, error.getMessage());
    }

    static RuntimeException exception(io.ringstore.protocol.v1.Error error) {
        return exception(error, null, null);
    }

    private static List<RecordedEvent> events(List<Event> in) {
        List<RecordedEvent> out = new ArrayList<>(in.size());
        for (Event e : in) {
            out.add(RecordedEvent.of(e));
        }
        return out;
    }

    /** Closes the connection; what is in flight fails with {@link ConnectionLostException}. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Closing anyway.
        }
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connectionLost("the client closed the connection", null);
    }
}
