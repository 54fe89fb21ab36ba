package io.ringstore.server;

import io.ringstore.error.ErrorCode;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.Response;
import io.ringstore.store.RingStore;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.tinylog.Logger;

/**
 * The daemon's Unix socket: accepts connections on its own platform thread and serves each on a
 * platform thread of its own ({@link Connection}); answers are written by whoever has them
 * ({@link Outbound}), the rest by one {@link WritePoller}. Start with {@link #start}; {@link #close} stops accepting,
 * ends subscriptions, answers what is in flight (the store must still be open), closes the
 * connections and removes the socket file.
 */
public final class SocketServer implements AutoCloseable {
    private static final int BACKLOG = 128;
    private static final long CLOSE_DRAIN_MILLIS = 10_000;

    private final RingStore store;
    private final ServerConfig config;
    private final SocketFile socket;
    /** The JSON-lines socket, null when not configured. */
    private final SocketFile jsonSocket;
    private final Semaphore requestBytes;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionNumbers = new AtomicLong();
    private final AtomicLong deniedCount = new AtomicLong();
    private final Thread acceptThread;
    private final Thread jsonAcceptThread;
    private final ReplyBatch replies = new ReplyBatch();
    private final WritePoller writePoller;
    private volatile boolean shuttingDown;
    private volatile boolean closed;

    private SocketServer(RingStore store, ServerConfig config, SocketFile socket, SocketFile jsonSocket) throws IOException {
        this.store = store;
        this.config = config;
        this.socket = socket;
        this.jsonSocket = jsonSocket;
        this.requestBytes = new Semaphore((int) Math.min(Integer.MAX_VALUE, config.requestBytesBudget()));
        this.writePoller = new WritePoller();
        this.acceptThread = Thread.ofPlatform().name("ringstore-accept").daemon()
                .unstarted(() -> acceptLoop(socket, Dialect.PROTOBUF));
        this.jsonAcceptThread = jsonSocket == null ? null : Thread.ofPlatform().name("ringstore-accept-json").daemon()
                .unstarted(() -> acceptLoop(jsonSocket, Dialect.JSON_LINES));
    }

    /**
     * Binds the socket (see {@link SocketFile}) and starts accepting.
     *
     * @throws SocketFile.InUseException when the socket is served by another process
     */
    public static SocketServer start(RingStore store, ServerConfig config) throws IOException {
        SocketFile socket = SocketFile.bind(config.socket(), config.socketGroup(), BACKLOG);
        SocketFile json = null;
        SocketServer server;
        try {
            // The same group and mode as the protobuf socket, and the same access policy per connection.
            json = config.jsonSocket() == null ? null : SocketFile.bind(config.jsonSocket(), config.socketGroup(), BACKLOG);
            server = new SocketServer(store, config, socket, json);
        } catch (IOException | RuntimeException e) {
            socket.close();
            if (json != null) {
                json.close();
            }
            throw e;
        }
        server.writePoller.start();
        store.setAckScope(server.replies);
        server.acceptThread.start();
        if (server.jsonAcceptThread != null) {
            server.jsonAcceptThread.start();
        }
        Logger.info("listening: socket={} json_socket={} mode=0660 access={}", socket.path(),
                json == null ? "none" : json.path(), config.access());
        return server;
    }

    private void acceptLoop(SocketFile from, Dialect dialect) {
        while (!closed) {
            SocketChannel channel = from.accept(() -> closed);
            if (channel == null) {
                break;
            }
            if (connections.size() >= config.maxConnections()) {
                refuse(channel, dialect);
                continue;
            }
            Connection c = new Connection(this, channel, connectionNumbers.incrementAndGet(), dialect);
            connections.add(c);
            changed();
            if (closed) {
                connections.remove(c);
                c.close();
                break;
            }
            // A platform thread: it waits in its own selector, and a virtual thread would hold its
            // carrier there. Measured cheaper per request than a virtual thread woken by the poller.
            Thread.ofPlatform().name("ringstore-conn-" + c.number()).daemon().start(c);
        }
    }

    /** Over the connection limit: one OVERLOADED error (fits the empty socket buffer), then close. */
    private void refuse(SocketChannel channel, Dialect dialect) {
        Logger.warn("connection refused: connections={} max={}", connections.size(), config.maxConnections());
        try (channel) {
            AnswerEncoder w = dialect.encoder();
            w.add(Response.newBuilder().setId(0).setError(Wire.error(ErrorCode.OVERLOADED,
                    "too many connections: max=" + config.maxConnections())).build());
            channel.write(w.buffer());
        } catch (IOException e) {
            Logger.debug("refusing a connection failed: {}", e.toString());
        }
    }

    WritePoller writePoller() {
        return writePoller;
    }

    ReplyBatch replies() {
        return replies;
    }

    RingStore store() {
        return store;
    }

    public ServerConfig config() {
        return config;
    }

    public Path socketPath() {
        return socket.path();
    }

    /** The JSON-lines socket, null when none is configured. */
    public Path jsonSocketPath() {
        return jsonSocket == null ? null : jsonSocket.path();
    }

    Semaphore requestBytes() {
        return requestBytes;
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    void ended(Connection c) {
        connections.remove(c);
        changed();
    }

    private final Object changes = new Object();

    /** Wakes those waiting in {@link #awaitState}: a connection or subscription came or went. */
    void changed() {
        synchronized (changes) {
            changes.notifyAll();
        }
    }

    /**
     * Waits until {@code condition} holds for (connections, subscriptions), or the timeout ends.
     *
     * @return whether it holds
     */
    public boolean awaitState(java.util.function.BiPredicate<Integer, Integer> condition, long timeoutMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (changes) {
            while (!condition.test(connectionCount(), subscriptionCount())) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                changes.wait(Math.min(left, 100));
            }
            return true;
        }
    }

    void countDenied() {
        deniedCount.incrementAndGet();
    }

    private volatile java.util.function.Consumer<io.ringstore.protocol.v1.StatusResponse.Builder> statusExtras = b -> { };

    /** Adds the daemon's own state (LEDs) to every status response. */
    public void statusExtras(java.util.function.Consumer<io.ringstore.protocol.v1.StatusResponse.Builder> extras) {
        this.statusExtras = extras;
    }

    void addStatusExtras(io.ringstore.protocol.v1.StatusResponse.Builder b) {
        statusExtras.accept(b);
    }

    public int connectionCount() {
        return connections.size();
    }

    public int subscriptionCount() {
        return connections.stream().mapToInt(Connection::subscriptionCount).sum();
    }

    /** Requests refused with ACCESS_DENIED since start. */
    public long deniedCount() {
        return deniedCount.get();
    }

    /** Request bytes currently held across connections (for tests: returns to 0 when idle). */
    public long requestBytesInUse() {
        return config.requestBytesBudget() - requestBytes.availablePermits();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        shuttingDown = true;
        try {
            try {
                socket.close();
            } finally {
                if (jsonSocket != null) {
                    jsonSocket.close();
                }
            }
        } finally {
            // Each connection stops reading (its reader sees end of stream), ends its
            // subscriptions with SHUTTING_DOWN, answers what is in flight, then closes.
            connections.forEach(Connection::shutdown);
            long deadline = System.nanoTime() + CLOSE_DRAIN_MILLIS * 1_000_000L;
            for (Connection c : connections) {
                try {
                    long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
                    if (!c.awaitEnd(left)) {
                        Logger.warn("{} did not finish in time at stop, closing it", c);
                        c.close();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            try {
                acceptThread.join(1_000);
                if (jsonAcceptThread != null) {
                    jsonAcceptThread.join(1_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            store.setAckScope(null);
            writePoller.close();
            Logger.info("socket closed: socket={}", socket.path());
        }
    }
}
