package io.ringstore.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.InvalidDetail;
import io.ringstore.protocol.Framing;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.net.ExtendedSocketOptions;
import org.tinylog.Logger;

/**
 * One client connection. Its thread reads frames and hands each request to {@link Requests};
 * answers go out through {@link Outbound}, written by whichever thread has them (mostly the
 * writer, once per batch), in whatever order they complete.
 *
 * <p>Bounds: a request is read only when one of {@code maxInFlight} permits is free (a permit
 * comes back when the answer has been written), and its bytes count against this connection's
 * share (two frames) and the server-wide request budget from before they are allocated until
 * then. A connection whose client does not
 * read its answers therefore stops being read, and holds a bounded amount of memory.
 *
 * <p>End: at end of stream, or after a frame that cannot be a request (answered with an error
 * first), the reader stops its subscriptions, waits for its requests in flight to be answered,
 * then lets the outbound write the rest and close the socket.
 */
final class Connection implements Runnable {
    private static final long DRAIN_TIMEOUT_MILLIS = 10_000;

    private final SocketServer server;
    private final SocketChannel channel;
    private final long number;
    private final String name;
    private final Outbound outbound;
    private final Semaphore inFlight;
    private final int maxInFlight;
    /** This connection's share of request bytes, so that one client cannot hold the whole server budget. */
    private final Semaphore ownBytes;
    private final int ownBytesLimit;
    private final Map<Long, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final Map<Request.OpCase, Long> denied = new EnumMap<>(Request.OpCase.class);
    private final Dialect dialect;
    /** JSON lines: answers back in request order. Null for protobuf, whose answers go out as they complete. */
    private final InOrder inOrder;
    /** Protobuf: the ids of requests in flight (answer not yet queued, or a live subscription). */
    private final java.util.Set<Long> ids = ConcurrentHashMap.newKeySet();
    private volatile Peer peer;
    private volatile Access access = Access.NONE;
    private volatile boolean shuttingDown;
    private volatile Selector readable;
    /** See {@link #requestsWaiting}; the reading thread's own. */
    private boolean requestsWaiting = true;
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

    Connection(SocketServer server, SocketChannel channel, long number, Dialect dialect) {
        this.server = server;
        this.channel = channel;
        this.number = number;
        this.dialect = dialect;
        this.name = (dialect == Dialect.JSON_LINES ? "json-" : "conn-") + number;
        this.outbound = new Outbound(channel, name, server.replies(), server.writePoller(), dialect.encoder());
        this.inOrder = dialect == Dialect.JSON_LINES ? new InOrder(outbound) : null;
        this.maxInFlight = server.config().maxInFlight();
        this.inFlight = new Semaphore(maxInFlight);
        ServerConfig c = server.config();
        this.ownBytesLimit = (int) Math.min(c.requestBytesBudget(), 2L * c.maxFrameBytes());
        this.ownBytes = new Semaphore(ownBytesLimit);
    }

    @Override
    public void run() {
        try {
            // Non-blocking, so that whoever has an answer can write it without waiting (see
            // Outbound); this thread waits for requests in its own selector.
            channel.configureBlocking(false);
            readable = Selector.open();
            channel.register(readable, SelectionKey.OP_READ);
            peer = Peer.of(channel.getOption(ExtendedSocketOptions.SO_PEERCRED));
            access = server.config().access().decide(peer);
            Logger.debug("{} connected: {} access={}", name, peer, access);
            if (dialect == Dialect.JSON_LINES) {
                lineLoop(new Requests(this, server.store()));
            } else {
                readLoop(new Requests(this, server.store()));
            }
        } catch (ClosedChannelException e) {
            Logger.debug("{} closed", name);
        } catch (IOException e) {
            Logger.debug("{} read failed: {}", name, e.toString());
        } catch (RuntimeException e) {
            Logger.error(e, "{} failed unexpectedly, closing it", name);
        } finally {
            end();
        }
    }

    /**
     * Parses a request from its frame's own bytes, aliasing them: its bytes fields (payloads,
     * metadata, event ids) are views of {@code frame}, not copies. Safe because each frame gets
     * a new array (Framing.Reader#readBody) and Requests copies what it keeps (EventData).
     */
    private static Request parse(byte[] frame) throws InvalidProtocolBufferException {
        com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(frame);
        in.enableAliasing(true);
        try {
            Request request = Request.parseFrom(in);
            in.checkLastTagWas(0);
            return request;
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) { // not thrown over an array; typed as the parser's own error if it were
            throw new InvalidProtocolBufferException(e);
        }
    }

    private void readLoop(Requests requests) throws IOException {
        Framing.Reader reader = new Framing.Reader(new WaitingChannel(), 64 << 10);
        int max = server.config().maxFrameBytes();
        while (true) {
            int length;
            try {
                length = reader.readLength(max);
            } catch (Framing.FrameTooLargeException e) {
                refuse(ErrorCode.FRAME_TOO_LARGE, e.getMessage());
                return;
            } catch (Framing.MalformedFrameException e) {
                refuse(InvalidDetail.MALFORMED_FRAME, "malformed frame: " + e.getMessage());
                return;
            }
            if (length < 0) {
                return;
            }
            // Bytes are counted before they are allocated: first against this connection's share
            // (only this connection waits), then against the server's budget.
            Semaphore budget = server.requestBytes();
            acquire(ownBytes, length);
            acquire(budget, length);
            AtomicBoolean released = new AtomicBoolean();
            Runnable releaseBytes = () -> {
                if (released.compareAndSet(false, true)) {
                    budget.release(length);
                    ownBytes.release(length);
                }
            };
            Request request;
            try {
                request = parse(reader.readBody(length));
            } catch (Framing.MalformedFrameException e) {
                releaseBytes.run();
                refuse(InvalidDetail.MALFORMED_FRAME, "malformed frame: " + e.getMessage());
                return;
            } catch (InvalidProtocolBufferException e) {
                releaseBytes.run();
                refuse(InvalidDetail.MALFORMED_FRAME, "frame is not a ringstore.v1.Request: " + e.getMessage());
                return;
            } catch (IOException | RuntimeException e) {
                releaseBytes.run();
                throw e;
            }
            acquire(inFlight, 1);
            Runnable release = () -> {
                releaseBytes.run();
                inFlight.release();
            };
            long id = request.getId();
            if (id == 0 || !ids.add(id)) {
                // Straight to the outbound, not through send(): this answer must not free the id
                // of the request that holds it.
                outbound.send(Response.newBuilder().setId(id).setError(Wire.error(ErrorCode.REQUEST_ID_INVALID, id == 0
                        ? "request id 0 is reserved for connection-level errors: use 1 and up"
                        : "request id already in flight on this connection: id=" + Long.toUnsignedString(id))).build(),
                        release);
                continue;
            }
            requestsWaiting = reader.buffered() > 0;
            requests.handle(request, release);
        }
    }

    /**
     * Whether more requests had arrived on this connection when the one being handled was read
     * (protobuf only; the reading thread only). A read request with nothing behind it is served on
     * this thread: no hand-over to another thread before the answer, and nobody waits behind it.
     */
    boolean requestsWaiting() {
        return requestsWaiting;
    }

    /**
     * The JSON-lines socket: one request per line, numbered 1, 2, 3... as its id (the client
     * sends none), answered in that order (see {@link InOrder}). A line that is not a request gets
     * an error line and the connection goes on; a line over the limit gets FRAME_TOO_LARGE and
     * ends it. After a subscribe the connection takes no more requests: lines are read and
     * ignored until the client closes, and when the subscription ends (refused, dropped, daemon
     * stopping) its error line is the last and the connection closes.
     */
    private void lineLoop(Requests requests) throws IOException {
        int max = server.config().maxFrameBytes();
        LineReader lines = new LineReader(new WaitingChannel(), max);
        long seq = 0;
        boolean subscribed = false;
        while (true) {
            byte[] line;
            try {
                line = lines.next();
            } catch (LineReader.TooLongException e) {
                Logger.warn("{} closing after a line over the limit: {} max={}", name, peer, max);
                inOrder.send(Response.newBuilder().setId(++seq).setError(Wire.error(ErrorCode.FRAME_TOO_LARGE,
                        e.getMessage() + "; the connection is closed")).build(), null);
                return;
            }
            if (line == null) {
                return;
            }
            if (subscribed || blank(line)) {
                continue;
            }
            int length = Math.max(1, line.length);
            Semaphore budget = server.requestBytes();
            acquire(ownBytes, length);
            acquire(budget, length);
            acquire(inFlight, 1);
            Runnable release = () -> {
                budget.release(length);
                ownBytes.release(length);
                inFlight.release();
            };
            long id = ++seq;
            Request request;
            try {
                request = io.ringstore.jsonlines.JsonRequests.parse(id, utf8(line));
            } catch (io.ringstore.jsonlines.JsonLines.BadLineException e) {
                inOrder.send(Response.newBuilder().setId(id)
                        .setError(Wire.error(InvalidDetail.MALFORMED_LINE, "bad line: " + e.getMessage())).build(), release);
                continue;
            }
            requests.handle(request, release);
            if (request.hasSubscribe()) {
                subscribed = true;
                if (subscription(id) == null) {
                    // Refused, or already ended: its error line is the last.
                    endInput();
                }
            }
        }
    }

    private static boolean blank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String utf8(byte[] line) throws io.ringstore.jsonlines.JsonLines.BadLineException {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new io.ringstore.jsonlines.JsonLines.BadLineException("not UTF-8");
        }
    }

    /** Stops reading: the reader sees end of stream and the connection ends once answered. */
    private void endInput() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            Logger.debug("{} shutdownInput failed: {}", name, e.toString());
        }
    }

    private static void acquire(Semaphore s, int permits) {
        boolean interrupted = false;
        while (true) {
            try {
                s.acquire(permits);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers a frame that cannot be a request (id 0); the connection closes after it. */
    private void refuse(ErrorCode code, String message) {
        Logger.warn("{} closing after a bad frame: {} code={} message={}", name, peer, code, message);
        outbound.send(Response.newBuilder().setId(0).setError(Wire.error(code, message)).build());
    }

    private void refuse(InvalidDetail detail, String message) {
        Logger.warn("{} closing after a bad frame: {} detail={} message={}", name, peer, detail, message);
        outbound.send(Response.newBuilder().setId(0).setError(Wire.error(detail, message)).build());
    }

    private void end() {
        List<Subscription> subs = new ArrayList<>(subscriptions.values());
        subs.forEach(s -> s.stop(Subscription.StopReason.CONNECTION_CLOSED));
        subs.forEach(Subscription::awaitEnd);
        try {
            if (!inFlight.tryAcquire(maxInFlight, DRAIN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                Logger.warn("{} closing with requests still unanswered after {} ms", name, DRAIN_TIMEOUT_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        outbound.finish();
        try {
            outbound.awaitEnd(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeSelector();
        synchronized (denied) {
            denied.forEach((op, n) -> {
                if (n > 1) {
                    Logger.warn("access denied {} times on this connection: {} op={}", n, peer, op);
                }
            });
        }
        server.ended(this);
        ended.countDown();
    }

    // ------------------------------------------------------------------ for Requests and Subscription

    Outbound outbound() {
        return outbound;
    }

    /**
     * Queues an answer (its release runs once written). Protobuf: an answer other than a
     * subscription update is its request's last, so its id is free from now on (before the
     * client can see the answer and reuse the id). JSON lines: in request order.
     */
    void send(Response response, Runnable release) {
        if (inOrder != null) {
            inOrder.send(response, release);
            return;
        }
        if (!response.hasSubscription()) {
            ids.remove(response.getId());
        }
        outbound.send(response, release);
    }

    /** A request's id is free again without a last answer (an unsubscribed subscription). */
    void requestIdDone(long id) {
        ids.remove(id);
    }

    String name() {
        return name;
    }

    /** Protobuf frames (ringstore.proto) or JSON lines. */
    Dialect dialect() {
        return dialect;
    }

    long number() {
        return number;
    }

    Peer peer() {
        return peer;
    }

    Access access() {
        return access;
    }

    SocketServer server() {
        return server;
    }

    boolean shuttingDown() {
        return shuttingDown || server.shuttingDown();
    }

    /** Records a denial; logs the first of each kind on this connection (naming the uid). */
    void denied(Request.OpCase op) {
        long n;
        synchronized (denied) {
            n = denied.merge(op, 1L, Long::sum);
        }
        if (n == 1) {
            Logger.warn("access denied: {} op={} access={}", peer, op.name().toLowerCase(java.util.Locale.ROOT), access);
        }
        server.countDenied();
    }

    /** Registers a new subscription; false when the id is taken or there are too many. */
    boolean addSubscription(Subscription s) {
        if (subscriptions.size() >= server.config().maxSubscriptions()) {
            return false;
        }
        boolean added = subscriptions.putIfAbsent(s.id(), s) == null;
        server.changed();
        return added;
    }

    Subscription subscription(long id) {
        return subscriptions.get(id);
    }

    void subscriptionEnded(Subscription s) {
        subscriptions.remove(s.id(), s);
        server.changed();
        if (dialect == Dialect.JSON_LINES) {
            endInput(); // its end (or error line) is the connection's last line
        }
    }

    int subscriptionCount() {
        return subscriptions.size();
    }

    /** The daemon is stopping: refuse new requests, end subscriptions with SHUTTING_DOWN, stop reading. */
    void shutdown() {
        shuttingDown = true;
        subscriptions.values().forEach(s -> s.stop(Subscription.StopReason.SHUTTING_DOWN));
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            Logger.debug("{} shutdownInput failed: {}", name, e.toString());
        }
    }

    /** Waits until this connection has answered what it read and closed. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            Logger.debug("{} close failed: {}", name, e.toString());
        }
        Selector s = readable;
        if (s != null) {
            s.wakeup();
        }
        server.writePoller().wakeup();
    }

    private void closeSelector() {
        if (readable != null) {
            try {
                readable.close();
            } catch (IOException e) {
                Logger.debug("{} selector close failed: {}", name, e.toString());
            }
        }
    }

    /** The non-blocking socket as a blocking channel for the framing reader: waits in the selector for bytes. */
    private final class WaitingChannel implements ReadableByteChannel {
        /**
         * The last read filled less than it was offered: the socket had nothing more then, so the
         * next read waits for it first instead of trying a read that would find it empty (one
         * system call fewer per request for a client that waits for each answer).
         */
        private boolean drained;

        @Override
        public int read(ByteBuffer dst) throws IOException {
            while (true) {
                if (drained) {
                    drained = false;
                    readable.select();
                    readable.selectedKeys().clear();
                    if (!channel.isOpen()) {
                        throw new ClosedChannelException();
                    }
                }
                int offered = dst.remaining();
                int n = channel.read(dst);
                if (n != 0) {
                    drained = n > 0 && n < offered;
                    return n;
                }
                drained = true;
            }
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return name + " " + peer;
    }
}
