package io.ringstore.consensus;

import io.microraft.RaftEndpoint;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import io.ringstore.replication.PeerConnection;
import io.ringstore.replication.PeerRefusedException;
import io.ringstore.replication.PlainSockets;
import io.ringstore.replication.ReplicationListener;
import io.ringstore.replication.ReplicationSockets;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;

/**
 * Carries the voters' messages ({@link GroupCodec} frames) over the boards' own sockets, TLS in
 * the daemon, so a voter is let in exactly as a replication peer is.
 *
 * <p>Per other voter, one outbound {@link Link}: a bounded queue and a writer thread that
 * connects (retrying with backoff), says HELLO, then writes what is queued, or a PING when a
 * heartbeat passed with nothing to send. {@link #send} only offers to the queue: the Raft thread
 * never waits on the network; when the queue is full or the voter is away the message is dropped,
 * which Raft tolerates (it resends). Inbound, an accept thread and one reader thread per
 * connection: a reader decodes frames and hands them on; a bad frame, a silent connection (no
 * frame for {@link #silenceMillis}) or a HELLO naming someone else closes that connection with a
 * journal line.
 *
 * <p>A voter is reachable while a frame from it arrived within three heartbeats.
 */
final class GroupTransport implements Transport, AutoCloseable {
    /** What the transport hands on: called on reader threads; must not block. */
    interface Inbound {
        void raft(RaftMessage message);

        void propose(String from, long requestId, GroupChange change);

        void beat(String from, long requestId, BoardBeat beat);

        void reply(GroupCodec.Reply reply);
    }

    static final int QUEUE_FRAMES = 256;
    static final long MAX_BACKOFF_MILLIS = 2_000;
    static final int HELLO_TIMEOUT_MILLIS = 10_000;

    private final String board;
    private final ReplicationSockets sockets;
    private final long heartbeatMillis;
    private final long silenceMillis;
    private final int connectTimeoutMillis;
    private final Map<String, Link> links = new LinkedHashMap<>();
    private final Map<String, Long> lastHeardNanos = new ConcurrentHashMap<>();
    private final Set<PeerConnection> inbound = ConcurrentHashMap.newKeySet();
    private volatile Inbound handler;
    private ReplicationListener listener;
    private Thread acceptThread;
    private Thread watchdog;
    private volatile boolean closed;

    GroupTransport(String board, Map<String, InetSocketAddress> voters, ReplicationSockets sockets, long heartbeatMillis) {
        this.board = board;
        this.sockets = sockets;
        this.heartbeatMillis = heartbeatMillis;
        // A connection that carried nothing for this long is dead even if TCP has not noticed
        // (the sender pings every heartbeat).
        this.silenceMillis = Math.max(6 * heartbeatMillis, 3_000);
        this.connectTimeoutMillis = (int) Math.max(2 * heartbeatMillis, 1_000);
        for (Map.Entry<String, InetSocketAddress> v : voters.entrySet()) {
            if (!v.getKey().equals(board)) {
                links.put(v.getKey(), new Link(v.getKey(), v.getValue()));
            }
        }
    }

    /** Starts listening and connecting; frames arriving go to {@code inboundHandler}. */
    void start(InetSocketAddress listen, Inbound inboundHandler) throws IOException {
        this.handler = inboundHandler;
        listener = sockets.listen(listen);
        acceptThread = Thread.ofPlatform().name("group-accept").daemon().start(this::acceptLoop);
        for (Link l : links.values()) {
            l.thread.start();
        }
        watchdog = Thread.ofPlatform().name("group-watchdog").daemon().start(this::watch);
    }

    InetSocketAddress localAddress() {
        return listener.localAddress();
    }

    List<String> peers() {
        return List.copyOf(links.keySet());
    }

    // ---------------------------------------------------------------- sending

    @Override
    public void send(RaftEndpoint target, RaftMessage message) {
        send((String) target.getId(), GroupCodec.raft(message));
    }

    /** Queues a frame for {@code peer}; false when it was dropped (unknown peer, queue full, closed). */
    boolean send(String peer, byte[] frame) {
        Link l = links.get(peer);
        return l != null && !closed && l.queue.offer(frame);
    }

    @Override
    public boolean isReachable(RaftEndpoint endpoint) {
        return isReachable((String) endpoint.getId());
    }

    boolean isReachable(String peer) {
        Long t = lastHeardNanos.get(peer);
        return t != null && System.nanoTime() - t < TimeUnit.MILLISECONDS.toNanos(3 * heartbeatMillis);
    }

    /** Per other voter: heard from within three heartbeats. */
    Map<String, Boolean> reachable() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (String p : links.keySet()) {
            m.put(p, isReachable(p));
        }
        return m;
    }

    /** One other voter's outbound connection: a queue and the thread that writes it. */
    private final class Link {
        final String peer;
        final InetSocketAddress address;
        final ArrayBlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE_FRAMES);
        final Thread thread;
        volatile PeerConnection connection;
        /** When the write in progress began (System.nanoTime), 0 when none: the watchdog's view. */
        volatile long writingSince;

        Link(String peer, InetSocketAddress address) {
            this.peer = peer;
            this.address = address;
            this.thread = Thread.ofPlatform().name("group-link-" + peer).daemon().unstarted(this::run);
        }

        private void run() {
            long backoff = 100;
            String lastFailure = "";
            while (!closed) {
                PeerConnection c;
                try {
                    c = sockets.connect(address, peer, connectTimeoutMillis);
                } catch (IOException | RuntimeException e) {
                    String why = e instanceof PeerRefusedException r ? "refused: " + r.reason() : String.valueOf(e.getMessage());
                    if (!why.equals(lastFailure)) { // once per distinct failure, not every retry
                        Logger.warn("group link to {} at {}: cannot connect: {} (retrying with backoff up to {} ms)",
                                peer, address, why, MAX_BACKOFF_MILLIS);
                        lastFailure = why;
                    }
                    queue.clear(); // what waited is stale by the time a connection exists
                    sleep(backoff);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
                    continue;
                }
                connection = c;
                if (!lastFailure.isEmpty()) {
                    Logger.info("group link to {} at {}: connected", peer, address);
                }
                lastFailure = "";
                backoff = 100;
                try {
                    OutputStream out = new BufferedOutputStream(c.socket().getOutputStream(), 16 * 1024);
                    write(out, GroupCodec.hello(board));
                    out.flush();
                    while (!closed) {
                        byte[] f = queue.poll(heartbeatMillis, TimeUnit.MILLISECONDS);
                        write(out, f == null ? GroupCodec.PING_FRAME : f);
                        for (byte[] more; (more = queue.poll()) != null; ) {
                            write(out, more);
                        }
                        writingSince = System.nanoTime();
                        out.flush();
                        writingSince = 0;
                    }
                } catch (IOException e) {
                    if (!closed) {
                        Logger.warn("group link to {} at {}: lost: {}", peer, address, e.getMessage());
                        lastFailure = "lost";
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } finally {
                    writingSince = 0;
                    connection = null;
                    closeQuietly(c);
                }
                queue.clear();
                sleep(backoff);
            }
        }

        private void write(OutputStream out, byte[] frame) throws IOException {
            writingSince = System.nanoTime();
            out.write(frame);
            writingSince = 0;
        }

        /** A write stuck this long means the peer stopped reading (or the network swallows everything). */
        void checkStuck(long now) {
            long since = writingSince;
            PeerConnection c = connection;
            if (since != 0 && c != null && now - since > TimeUnit.MILLISECONDS.toNanos(silenceMillis)) {
                Logger.warn("group link to {}: a write has been stuck {} ms; reconnecting", peer,
                        TimeUnit.NANOSECONDS.toMillis(now - since));
                closeQuietly(c);
            }
        }
    }

    private void watch() {
        while (!closed) {
            sleep(heartbeatMillis);
            long now = System.nanoTime();
            for (Link l : links.values()) {
                l.checkStuck(now);
            }
        }
    }

    // ---------------------------------------------------------------- receiving

    private void acceptLoop() {
        while (!closed) {
            PeerConnection c;
            try {
                c = listener.accept();
            } catch (SocketException e) {
                if (closed) {
                    return;
                }
                Logger.warn("group listener: {}", e.getMessage());
                sleep(100);
                continue;
            } catch (IOException e) {
                Logger.warn("group listener: {}", e.getMessage());
                sleep(100);
                continue;
            }
            inbound.add(c);
            Thread.ofPlatform().name("group-read-" + c.peer()).daemon().start(() -> read(c));
        }
    }

    private void read(PeerConnection c) {
        String peer = null;
        try (c) {
            c.socket().setSoTimeout(HELLO_TIMEOUT_MILLIS);
            DataInputStream in = new DataInputStream(new BufferedInputStream(c.socket().getInputStream(), 16 * 1024));
            GroupCodec.Frame hello = GroupCodec.readFrame(in);
            if (hello.type() != GroupCodec.HELLO) {
                throw new GroupCodec.BadFrame("first frame is type " + hello.type() + ", not HELLO");
            }
            peer = GroupCodec.readHello(hello.body());
            if (!links.containsKey(peer)) {
                throw new GroupCodec.BadFrame("HELLO from " + peer + ", not one of the other voters " + links.keySet());
            }
            // Over TLS the connection's name was proven by its certificate: the HELLO must agree.
            // (Plain sockets, in tests, name the remote address instead, which proves nothing.)
            if (!(sockets instanceof PlainSockets) && !c.peer().equals(peer)) {
                throw new GroupCodec.BadFrame("HELLO says " + peer + " but the certificate is " + c.peer() + "'s");
            }
            c.socket().setSoTimeout((int) silenceMillis);
            while (!closed) {
                GroupCodec.Frame f = GroupCodec.readFrame(in);
                lastHeardNanos.put(peer, System.nanoTime());
                dispatch(peer, f);
            }
        } catch (GroupCodec.BadFrame e) {
            Logger.warn("group connection from {} ({}): bad frame, dropped: {}", peer == null ? "?" : peer, c, e.getMessage());
        } catch (SocketTimeoutException e) {
            if (!closed) {
                Logger.warn("group connection from {} ({}): silent for {} ms, dropped", peer == null ? "?" : peer, c,
                        c.peer() == null ? HELLO_TIMEOUT_MILLIS : silenceMillis);
            }
        } catch (EOFException e) {
            if (!closed) {
                Logger.info("group connection from {} ({}): closed by the peer", peer == null ? "?" : peer, c);
            }
        } catch (IOException e) {
            if (!closed) {
                Logger.info("group connection from {} ({}): {}", peer == null ? "?" : peer, c, e.getMessage());
            }
        } catch (RuntimeException e) {
            // A decoded message MicroRaft's builders refused, or a handler bug: drop this connection, not the voter.
            Logger.warn(e, "group connection from {} ({}): dropped", peer == null ? "?" : peer, c);
        } finally {
            inbound.remove(c);
        }
    }

    private void dispatch(String peer, GroupCodec.Frame f) throws IOException {
        Inbound h = handler;
        switch (f.type()) {
            case GroupCodec.PING -> GroupCodec.expectEnd(f.body());
            case GroupCodec.RAFT -> {
                RaftMessage m = GroupCodec.readRaftMessage(f.body());
                if (!peer.equals(m.getSender().getId())) {
                    throw new GroupCodec.BadFrame("a Raft message from " + peer + " claims to be from " + m.getSender().getId());
                }
                h.raft(m);
            }
            case GroupCodec.PROPOSE -> {
                long id = f.body().readLong();
                Object op = GroupCodec.readOperation(f.body());
                GroupCodec.expectEnd(f.body());
                if (!(op instanceof GroupChange change)) {
                    throw new GroupCodec.BadFrame("PROPOSE carries " + op.getClass().getSimpleName() + ", not a change");
                }
                h.propose(peer, id, change);
            }
            case GroupCodec.BEAT -> {
                long id = f.body().readLong();
                BoardBeat beat = GroupCodec.readBeat(f.body());
                GroupCodec.expectEnd(f.body());
                h.beat(peer, id, beat);
            }
            case GroupCodec.REPLY -> h.reply(GroupCodec.readReply(f.body()));
            default -> throw new GroupCodec.BadFrame("unknown frame type " + f.type());
        }
    }

    // ---------------------------------------------------------------- closing

    @Override
    public void close() {
        closed = true;
        if (listener != null) {
            try {
                listener.close();
            } catch (IOException e) {
                Logger.debug("closing group listener: {}", e.getMessage());
            }
        }
        for (Link l : links.values()) {
            l.thread.interrupt();
            PeerConnection c = l.connection;
            if (c != null) {
                closeQuietly(c);
            }
        }
        for (PeerConnection c : inbound) {
            closeQuietly(c);
        }
        if (watchdog != null) {
            watchdog.interrupt();
        }
        for (Link l : links.values()) {
            join(l.thread);
        }
        join(acceptThread);
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(PeerConnection c) {
        try {
            c.close();
        } catch (IOException e) {
            Logger.debug("closing {}: {}", c, e.getMessage());
        }
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            // only close() interrupts; the loops look at closed
            Thread.currentThread().interrupt();
        }
    }
}
