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
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A connection to a ringstore daemon over its Unix socket. Thread-safe and pipelined: every call
 * sends its request at once and returns a future, so many can be in flight; answers complete them
 * as they arrive, in any order. Reading is a role that one thread holds at a time (leader and
 * followers): a blocking call ({@link #appendAndWait}) takes it while nobody else reads and reads
 * its own answer on its own thread (no hand-over from a reading thread: one wake-up fewer per
 * round trip); otherwise this client's reading thread takes it whenever answers are awaited.
 * Failures complete the futures with
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
    /** Held while frames are written to the socket: frames go out in the order they were queued. */
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Held while a frame is added to {@link #queued} or the buffers are swapped. */
    private final ReentrantLock queueLock = new ReentrantLock();
    /** Frames not yet written (guarded by queueLock). */
    private Framing.Writer queued = new Framing.Writer(4096);
    /** The buffer being written, then the next to fill (guarded by writeLock). */
    private Framing.Writer spare = new Framing.Writer(4096);
    /** Set when frames were queued for the sending thread and it has not yet taken them. */
    private final java.util.concurrent.atomic.AtomicBoolean flushScheduled = new java.util.concurrent.atomic.AtomicBoolean();
    private final Thread reader;
    private final Thread sender;
    /** The reading role: whoever holds it reads frames and completes what they answer. */
    private final ReentrantLock readRole = new ReentrantLock();
    /** Read only by the holder of {@link #readRole}. */
    private final Framing.Reader in;
    /** The id of the answer being read: used only by the thread holding the reading role. */
    private final long[] answerId = new long[1];
    private volatile boolean closed;
    private volatile ConnectionLostException lost;
    /** Why the daemon said it closes the connection (an error with id 0), if it said so. */
    private volatile RuntimeException refusal;
    private volatile String refusalWhy;

    /**
     * The most events a whole-stream read ({@link #readStreamToEnd}) asks for per page: the
     * daemon's own cap (StatusResponse.max_read_count), so that pages end at its answer size
     * limit (read_page_bytes) rather than at a count.
     */
    static final int WHOLE_READ_PAGE = 4096;

    /** Decodes a read_stream answer from its bytes: the ReadStreamResponse at {@code frame[offset .. + length)}. */
    private interface ReadStreamDecoder {
        Object decode(byte[] frame, int offset, int length) throws IOException;
    }

    /** @param readStream null, or how a read_stream answer to this request is decoded from its bytes */
    private record Pending(CompletableFuture<Object> future, Function<Response, Object> onResponse,
                           ReadStreamDecoder readStream) {}

    private RingStoreClient(SocketChannel channel, Path socket) {
        this.channel = channel;
        this.socket = socket;
        // A platform thread blocked in read: cheaper per answer than a virtual thread woken by
        // the JDK's poller (measured with the socket bench).
        this.reader = Thread.ofPlatform().name("ringstore-client-reader").daemon().unstarted(this::readLoop);
        this.sender = Thread.ofPlatform().name("ringstore-client-sender").daemon().unstarted(this::sendLoop);
        this.in = Framing.Reader.trusting(channel, 64 << 10);
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
        c.sender.start();
        return c;
    }

    // ------------------------------------------------------------------ operations

    /** Appends events to one stream atomically. */
    public CompletableFuture<AppendResult> append(String stream, ExpectedVersion expected, List<EventData> events) {
        return call(Request.newBuilder().setAppend(appendRequest(stream, expected, events)),
                r -> appendResult(r.getAppend()), stream, expected);
    }

    /**
     * Appends and waits for the acknowledgement, reading the answer on the calling thread when no
     * other thread is reading for this connection (see the class comment): the blocking client's
     * round trip without a hand-over between threads.
     *
     * @throws RingStoreException typed as the daemon answered ({@link WrongExpectedVersionException}...)
     * @throws ConnectionLostException when the connection is gone
     */
    public AppendResult appendAndWait(String stream, ExpectedVersion expected, List<EventData> events) {
        // Not waking the reading thread: this thread reads (or, if another holds the role, that
        // one wakes the reading thread when it lets go with this answer still awaited).
        CompletableFuture<AppendResult> f = call(Request.newBuilder().setAppend(appendRequest(stream, expected, events)),
                r -> appendResult(r.getAppend()), stream, expected, false, null);
        awaitLeading(f);
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Appends to several streams in one request (a multi-stream append, {@code MultiAppendRequest}
     * in ringstore.proto): one frame and one answer for all, usually one force. Each entry is its
     * own append with its own expected version; the futures, in {@code appends}' order, complete
     * together when the answer arrives, each with its entry's result or typed failure (a wrong
     * expected version fails only its entry).
     */
    public List<CompletableFuture<AppendResult>> appendAll(List<io.ringstore.writer.StreamAppend> appends) {
        io.ringstore.protocol.v1.MultiAppendRequest.Builder m = io.ringstore.protocol.v1.MultiAppendRequest.newBuilder();
        List<CompletableFuture<AppendResult>> each = new ArrayList<>(appends.size());
        for (io.ringstore.writer.StreamAppend a : appends) {
            m.addAppends(appendRequest(a.stream(), a.expected(), a.events()));
            each.add(new CompletableFuture<>());
        }
        CompletableFuture<List<Object>> all = call(Request.newBuilder().setMultiAppend(m), r -> {
            List<Object> out = new ArrayList<>();
            List<io.ringstore.protocol.v1.MultiAppendResult> results = r.getMultiAppend().getResultsList();
            for (int i = 0; i < appends.size(); i++) {
                io.ringstore.writer.StreamAppend a = appends.get(i);
                if (i >= results.size()) {
                    out.add(new RingStoreException(ErrorCode.STORAGE_ERROR, "the daemon answered " + results.size()
                            + " of " + appends.size() + " entries"));
                } else if (results.get(i).hasError()) {
                    out.add(exception(results.get(i).getError(), a.stream(), a.expected()));
                } else {
                    out.add(appendResult(results.get(i).getAppend()));
                }
            }
            return out;
        }, null, null);
        all.whenComplete((results, error) -> {
            for (int i = 0; i < each.size(); i++) {
                if (error != null) {
                    each.get(i).completeExceptionally(error);
                } else if (results.get(i) instanceof AppendResult ok) {
                    each.get(i).complete(ok);
                } else {
                    each.get(i).completeExceptionally((Throwable) results.get(i));
                }
            }
        });
        return each;
    }

    private static AppendRequest.Builder appendRequest(String stream, ExpectedVersion expected, List<EventData> events) {
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
        return a;
    }

    private static AppendResult appendResult(AppendResponse x) {
        return new AppendResult(x.getStream(), x.getFirstVersion(), x.getLastVersion(), x.getFirstPosition(),
                x.getLastPosition(), Wire.durability(x.getDurability()), x.getReplayed(), Wire.ackMode(x.getAckMode()),
                x.getSolo());
    }

    /** Reads a page of one stream ({@code fromVersion} -1 with BACKWARD: from the end). */
    public CompletableFuture<StreamPage> readStream(String stream, long fromVersion, int maxCount, Direction direction) {
        return callReadStream(readRequest(stream, fromVersion, maxCount, direction),
                (frame, offset, length) -> StreamPageDecoder.header(frame, offset, length).page(), stream);
    }

    /**
     * Reads {@code stream} forward from {@code fromVersion} to its end (as it was when the last
     * page was read), page after page, and hands every event to {@code consumer}, in version
     * order, on this client's reading thread (keep it short: other answers wait behind it).
     * Pipelined: as soon as a page arrives, the next one is asked for, and only then is the page
     * decoded, so the daemon reads the next page while this one is decoded. Completes with the
     * number of events; fails as {@link #readStream} fails (or with what {@code consumer} threw,
     * after which it is not called again).
     */
    public CompletableFuture<Long> readStreamToEnd(String stream, long fromVersion, Consumer<RecordedEvent> consumer) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        readPageOfWhole(stream, fromVersion, consumer, done, new long[1]);
        return done;
    }

    /**
     * Reads {@code stream} forward from {@code fromVersion} to its end, like
     * {@link #readStreamToEnd}, but blocks, and hands every event to {@code consumer} on the
     * calling thread (it may take as long as it likes: no other answer waits behind it). The
     * calling thread reads its own answers while no other thread reads for this connection (see
     * the class comment): rebuilding an aggregate costs no hand-over between threads. Pipelined
     * the same way: the next page is asked for before this one is decoded.
     *
     * @return the number of events read
     * @throws RingStoreException typed as the daemon answered (e.g. STREAM_DELETED)
     * @throws ConnectionLostException when the connection is gone
     */
    public long readStreamToEndAndWait(String stream, long fromVersion, Consumer<RecordedEvent> consumer) {
        CompletableFuture<StreamPageDecoder> page = requestWholePage(stream, fromVersion);
        long count = 0;
        while (true) {
            awaitLeading(page);
            StreamPageDecoder p = joinOrThrow(page);
            boolean more = !p.endOfStream() && p.events() > 0;
            CompletableFuture<StreamPageDecoder> next = more ? requestWholePage(stream, p.nextVersion()) : null;
            try {
                p.forEach(consumer);
            } catch (IOException | RuntimeException e) {
                if (next != null) {
                    wakeReaderIfAwaited(); // someone must still read the next page's answer
                }
                throw e instanceof IOException io ? new java.io.UncheckedIOException("undecodable read_stream answer", io)
                        : (RuntimeException) e;
            }
            count += p.events();
            if (next == null) {
                return count;
            }
            page = next;
        }
    }

    /** Asks for one page of a whole-stream read; the caller reads the answer itself. */
    @SuppressWarnings("unchecked")
    private CompletableFuture<StreamPageDecoder> requestWholePage(String stream, long from) {
        CompletableFuture<?> f = call(readRequest(stream, from, WHOLE_READ_PAGE, Direction.FORWARD), r -> {
            throw new IllegalStateException("read_stream answered with " + r.getResultCase());
        }, stream, null, false, StreamPageDecoder::header);
        return (CompletableFuture<StreamPageDecoder>) f;
    }

    private static <T> T joinOrThrow(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void readPageOfWhole(String stream, long from, Consumer<RecordedEvent> consumer, CompletableFuture<Long> done,
                                 long[] count) {
        callReadStream(readRequest(stream, from, WHOLE_READ_PAGE, Direction.FORWARD), (frame, offset, length) -> {
            if (done.isDone()) {
                return null; // failed on an earlier page
            }
            StreamPageDecoder page = StreamPageDecoder.header(frame, offset, length);
            boolean more = !page.endOfStream() && page.events() > 0;
            if (more) {
                // Asked from another thread: this one must never block on a send while the daemon
                // may be waiting for it to read.
                long next = page.nextVersion();
                Thread.ofVirtual().name("ringstore-client-next-page")
                        .start(() -> readPageOfWhole(stream, next, consumer, done, count));
            }
            try {
                page.forEach(consumer);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                return null;
            }
            count[0] += page.events();
            if (!more) {
                done.complete(count[0]);
            }
            return null;
        }, stream).whenComplete((ignored, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
            }
        });
    }

    private static Request.Builder readRequest(String stream, long fromVersion, int maxCount, Direction direction) {
        ReadStreamRequest.Builder r = ReadStreamRequest.newBuilder().setStream(stream).setFromVersion(fromVersion)
                .setMaxCount(maxCount)
                .setDirection(direction == Direction.FORWARD ? io.ringstore.protocol.v1.Direction.FORWARD
                        : io.ringstore.protocol.v1.Direction.BACKWARD);
        return Request.newBuilder().setReadStream(r);
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
        if (!readRole.isLocked()) {
            LockSupport.unpark(reader);
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

    private <T> CompletableFuture<T> call(Request.Builder request, Function<Response, T> onResponse, String stream,
                                          ExpectedVersion expected) {
        return call(request, onResponse, stream, expected, true, null);
    }

    /** A read_stream request whose answer is decoded from its bytes (errors as any other). */
    private <T> CompletableFuture<T> callReadStream(Request.Builder request, ReadStreamDecoder decoder, String stream) {
        return call(request, r -> {
            throw new IllegalStateException("read_stream answered with " + r.getResultCase());
        }, stream, null, true, decoder);
    }

    /**
     * Sends a request; {@code wakeReader} false when the calling thread will read the answer itself;
     * {@code readStream} null, or how a read_stream answer to it is decoded from its bytes.
     */
    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> call(Request.Builder request, Function<Response, T> onResponse, String stream,
                                          ExpectedVersion expected, boolean wakeReader, ReadStreamDecoder readStream) {
        long id = ids.incrementAndGet();
        CompletableFuture<Object> future = new CompletableFuture<>();
        pending.put(id, new Pending(future, r -> {
            if (r.getResultCase() == Response.ResultCase.ERROR) {
                throw exception(r.getError(), stream, expected);
            }
            return onResponse.apply(r);
        }, readStream));
        try {
            // A blocking caller's request goes out at once; a pipelined one is queued for the
            // sending thread, which writes whatever has gathered meanwhile in one write.
            send(request.setId(id).build(), !wakeReader);
        } catch (ConnectionLostException e) {
            pending.remove(id);
            future.completeExceptionally(e);
        }
        if (lost != null && pending.remove(id) != null) {
            future.completeExceptionally(lost);
        }
        if (wakeReader && !readRole.isLocked()) {
            // Nobody reads now: the reading thread takes the role (a blocking caller may take it
            // first; then the thread finds it held and waits again).
            LockSupport.unpark(reader);
        }
        return (CompletableFuture<T>) (CompletableFuture<?>) future;
    }

    /** Whether answers or subscription updates are still to come. */
    private boolean awaited() {
        return !pending.isEmpty() || !subscriptions.isEmpty();
    }

    /**
     * Waits for {@code f}, reading answers on this thread while no other thread holds the
     * reading role; otherwise waits for the reader to complete it.
     */
    private void awaitLeading(CompletableFuture<?> f) {
        while (!f.isDone()) {
            // With a subscription live, its reading thread reads: listeners run there, not in a caller.
            if (subscriptions.isEmpty() && readRole.tryLock()) {
                try {
                    while (!f.isDone() && lost == null) {
                        readOne();
                    }
                } finally {
                    releaseRole();
                }
            } else {
                try {
                    f.get(); // the holder completes it, or releases the role with it still awaited (then the reading thread reads)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    return;
                }
            }
        }
    }

    /**
     * Gives up the reading role; when answers are still awaited, wakes the reading thread so that
     * someone reads them (whoever adds a wait meanwhile found the role held and relies on this).
     */
    private void releaseRole() {
        readRole.unlock();
        if (awaited() && lost == null && Thread.currentThread() != reader) {
            LockSupport.unpark(reader);
        }
    }

    /** Wakes the reading thread when answers are awaited and nobody holds the reading role. */
    private void wakeReaderIfAwaited() {
        if (awaited() && !readRole.isLocked()) {
            LockSupport.unpark(reader);
        }
    }

    private void send(Request request) {
        send(request, true);
    }

    /**
     * Queues {@code request}'s frame; with {@code now} (or a large backlog) writes the queue on
     * this thread, otherwise leaves it to the sending thread. Either way frames reach the socket
     * in the order they were queued.
     */
    private void send(Request request, boolean now) {
        ConnectionLostException l = lost;
        if (l != null) {
            throw l;
        }
        int backlog;
        queueLock.lock();
        try {
            queued.add(request);
            backlog = queued.size();
        } finally {
            queueLock.unlock();
        }
        if (now || backlog >= FLUSH_ON_CALLER_BYTES) {
            flushQueued();
        } else if (flushScheduled.compareAndSet(false, true)) {
            LockSupport.unpark(sender);
        }
    }

    /** A backlog this large is written by the caller that adds to it: back-pressure on a fast producer. */
    private static final int FLUSH_ON_CALLER_BYTES = 256 << 10;

    /** Writes every queued frame (one write while the socket takes it all). */
    private void flushQueued() {
        writeLock.lock();
        Framing.Writer out = null;
        try {
            queueLock.lock();
            try {
                out = queued;
                queued = spare;
                spare = out;
            } finally {
                queueLock.unlock();
            }
            ByteBuffer b = out.buffer();
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw connectionLost("sending to the daemon failed", e);
        } finally {
            if (out != null) {
                out.reset(1 << 20);
            }
            writeLock.unlock();
        }
    }

    /**
     * The sending thread: writes what pipelined calls queued. Measured (bench, socket, 8 producers
     * x 32 in flight): a producer woken by a batch of answers sends its next dozen or more requests
     * back to back; one write for all of them instead of one each.
     */
    private void sendLoop() {
        while (!closed && lost == null) {
            if (!flushScheduled.getAndSet(false)) {
                LockSupport.park(this);
                continue;
            }
            try {
                flushQueued();
            } catch (ConnectionLostException e) {
                return;
            }
        }
    }

    /**
     * The reading thread: whenever answers are awaited and nobody else reads, takes the role and
     * reads until nothing is awaited; parks in between.
     */
    private void readLoop() {
        while (!closed && lost == null) {
            if (awaited() && readRole.tryLock()) {
                try {
                    while (awaited() && lost == null) {
                        readOne();
                    }
                } finally {
                    releaseRole();
                }
                continue; // awaited again since the check: read on
            }
            LockSupport.park(this);
        }
    }

    /** Reads one frame and completes what it answers; the end of the connection fails everything awaited. */
    private void readOne() {
        try {
            int length = in.readLength(MAX_RESPONSE_BYTES);
            if (length < 0) {
                connectionLost(refusalWhy != null ? refusalWhy : "the daemon closed the connection", null);
                return;
            }
            byte[] body = in.readBody(length);
            // A read_stream answer goes to its request's own decoder, without the general parse.
            int[] readStream = StreamPageDecoder.findReadStream(body, answerId);
            if (readStream != null) {
                Pending p = pending.remove(answerId[0]);
                if (p != null && p.readStream() != null) {
                    completeReadStream(p, body, readStream[0], readStream[1]);
                } else if (p != null) {
                    complete(p, Response.parseFrom(body));
                }
                return;
            }
            Response r = Response.parseFrom(body);
            if (r.getId() == 0 && r.getResultCase() == Response.ResultCase.ERROR) {
                // The daemon refused the connection or a frame and is closing it.
                refusal = exception(r.getError());
                refusalWhy = "the daemon closed the connection: " + r.getError().getCode() + " " + r.getError().getMessage();
                return;
            }
            Subscription sub = subscriptions.get(r.getId());
            if (sub != null) {
                if (sub.on(r)) {
                    subscriptions.remove(r.getId());
                }
                return;
            }
            Pending p = pending.remove(r.getId());
            if (p != null) {
                complete(p, r);
            }
        } catch (IOException e) {
            connectionLost(closed ? "the client closed the connection" : "reading from the daemon failed: " + e, e);
        }
    }

    private static void completeReadStream(Pending p, byte[] frame, int offset, int length) {
        try {
            p.future().complete(p.readStream().decode(frame, offset, length));
        } catch (IOException | RuntimeException e) {
            p.future().completeExceptionally(e instanceof IOException io
                    ? new java.io.UncheckedIOException("undecodable read_stream answer", io) : e);
        }
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
        closed = true;
        LockSupport.unpark(reader);
        LockSupport.unpark(sender);
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
