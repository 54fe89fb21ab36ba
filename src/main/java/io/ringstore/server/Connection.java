package io.ringstore.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.error.ErrorCode;
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
    private volatile Peer peer;
    private volatile Access access = Access.NONE;
    private volatile boolean shuttingDown;
    private volatile Selector readable;
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

    Connection(SocketServer server, SocketChannel channel, long number) {
        this.server = server;
        this.channel = channel;
        this.number = number;
        this.name = "conn-" + number;
        this.outbound = new Outbound(channel, name, server.replies(), server.writePoller());
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
            readLoop(new Requests(this, server.store()));
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
                refuse(ErrorCode.INVALID_REQUEST, "malformed frame: " + e.getMessage());
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
                request = Request.parseFrom(reader.readBody(length));
            } catch (Framing.MalformedFrameException e) {
                releaseBytes.run();
                refuse(ErrorCode.INVALID_REQUEST, "malformed frame: " + e.getMessage());
                return;
            } catch (InvalidProtocolBufferException e) {
                releaseBytes.run();
                refuse(ErrorCode.INVALID_REQUEST, "frame is not a ringstore.v1.Request: " + e.getMessage());
                return;
            } catch (IOException | RuntimeException e) {
                releaseBytes.run();
                throw e;
            }
            acquire(inFlight, 1);
            requests.handle(request, () -> {
                releaseBytes.run();
                inFlight.release();
            });
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

    String name() {
        return name;
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
        @Override
        public int read(ByteBuffer dst) throws IOException {
            while (true) {
                int n = channel.read(dst);
                if (n != 0) {
                    return n;
                }
                readable.select();
                readable.selectedKeys().clear();
                if (!channel.isOpen()) {
                    throw new ClosedChannelException();
                }
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
