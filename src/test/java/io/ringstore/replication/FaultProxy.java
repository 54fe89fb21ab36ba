package io.ringstore.replication;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.tinylog.Logger;

/**
 * A TCP proxy on loopback that sits between two boards (a standby and its primary) and breaks
 * the network between them on command, per direction: delay, one-way or two-way partition,
 * cut, heal. Real sockets; each proxied connection is a {@link Link} of two {@link Pump}s, each
 * a reader and a writer thread with a bounded queue of chunks between them.
 *
 * <p>What each fault does to the bytes, and why:
 * <ul>
 *   <li><b>delay</b>: every chunk read in that direction is held a seeded-random time in
 *       [min, max] before it is written; order is kept (a chunk is never written before the one
 *       read before it), as TCP keeps it.
 *   <li><b>partition</b> (black hole, one way or both): nothing is written in that direction;
 *       connections stay open. Bytes already read are held, and once the queue is full the
 *       proxy stops reading, so the sender's buffers fill and its writes block, as they do when
 *       a real network drops every packet. Nothing is discarded: on heal the held bytes go on
 *       intact, as TCP's retransmissions deliver them when a short partition ends. (A proxy that
 *       discarded bytes would show a hole in a TCP stream, which no network can produce.)
 *   <li><b>cut</b>: every connection is reset now (RST to both ends); while cut, new
 *       connections are either reset at once ({@link WhileCut#REFUSE}: like a board whose
 *       port is closed) or accepted and left hanging with nothing forwarded
 *       ({@link WhileCut#BLACK_HOLE}: like a network dropping SYNs; on heal they connect
 *       through and what the client wrote meanwhile is delivered).
 *   <li><b>cut after N bytes</b>: the next N bytes in a direction pass, then every connection
 *       is closed (FIN after exactly those bytes): the receiver sees its stream end in the
 *       middle of whatever it was reading, a torn frame.
 *   <li><b>heal</b>: partitions and cuts end; delays stay until set to 0.
 * </ul>
 * Randomness comes from one {@link Random} seeded at start. Draws happen as chunks arrive, so a
 * run with several busy connections draws in the order its threads happen to run; the seed
 * fixes the values, not that order.
 */
public final class FaultProxy implements AutoCloseable {
    /** {@code TO_TARGET}: from whoever connects to the proxy towards the target; {@code FROM_TARGET}: back. */
    public enum Direction { TO_TARGET, FROM_TARGET }

    /** What happens to connections made while the proxy is cut. */
    public enum WhileCut { REFUSE, BLACK_HOLE }

    private static final int CHUNK = 16 * 1024;
    private static final int QUEUE_BYTES = 256 * 1024;
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final int RECEIVE_BUFFER = 64 * 1024;

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Random random;
    private final Thread acceptThread;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    // Fault state: guarded by this; every change is followed by notifyAll so waiting writers look again.
    private final long[] delayMin = new long[2];
    private final long[] delayMax = new long[2];
    private final boolean[] partitioned = new boolean[2];
    private final long[] cutAfter = {-1, -1};
    private final long[] forwarded = new long[2];
    private final List<Socket> held = new ArrayList<>();
    private WhileCut cut;
    private long accepted;
    private boolean closed;

    private FaultProxy(InetSocketAddress target, ServerSocket server, long seed) {
        this.target = target;
        this.server = server;
        this.random = new Random(seed);
        this.acceptThread = Thread.ofPlatform().name("fault-proxy-accept-" + server.getLocalPort()).daemon()
                .unstarted(this::acceptLoop);
    }

    /** Starts a proxy on a free loopback port in front of {@code target}. */
    public static FaultProxy start(InetSocketAddress target, long seed) throws IOException {
        ServerSocket server = new ServerSocket();
        // Small fixed receive buffers (no autotuning up to tcp_rmem's max, 32 MiB here): a
        // partition pushes back on the sender after a bounded, small amount, whatever the kernel.
        server.setReceiveBufferSize(RECEIVE_BUFFER);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        FaultProxy p = new FaultProxy(target, server, seed);
        p.acceptThread.start();
        return p;
    }

    /** Where to connect instead of the target. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Holds every chunk in {@code d} for a seeded-random time in [{@code minMillis}, {@code maxMillis}]; 0, 0 for none. */
    public synchronized void delay(Direction d, long minMillis, long maxMillis) {
        if (minMillis < 0 || maxMillis < minMillis) {
            throw new IllegalArgumentException("delay range: " + minMillis + ".." + maxMillis);
        }
        delayMin[d.ordinal()] = minMillis;
        delayMax[d.ordinal()] = maxMillis;
        Logger.info("fault proxy {}: delay {} {}..{} ms", address().getPort(), d, minMillis, maxMillis);
        notifyAll();
    }

    /** Stops forwarding in {@code d}, connections kept open (one-way partition). */
    public synchronized void partition(Direction d) {
        partitioned[d.ordinal()] = true;
        Logger.info("fault proxy {}: partition {}", address().getPort(), d);
        notifyAll();
    }

    /** Stops forwarding both ways, connections kept open. */
    public synchronized void partition() {
        partition(Direction.TO_TARGET);
        partition(Direction.FROM_TARGET);
    }

    /** Resets every connection now; until {@link #heal()}, new ones are handled as {@code whileCut} says. */
    public void cut(WhileCut whileCut) {
        synchronized (this) {
            cut = whileCut;
            Logger.info("fault proxy {}: cut, new connections {}", address().getPort(), whileCut);
            notifyAll();
        }
        for (Link l : links) {
            l.kill(true);
        }
    }

    /**
     * Lets the next {@code bytes} bytes in {@code d} through, then closes every connection
     * (FIN, after exactly those bytes). New connections are not affected.
     */
    public synchronized void cutAfter(Direction d, long bytes) {
        cutAfter[d.ordinal()] = bytes;
        Logger.info("fault proxy {}: cut after {} more bytes {}", address().getPort(), bytes, d);
        notifyAll();
    }

    /** {@link #cutAfter} at a seeded-random point in [1, {@code maxBytes}]; returns the point. */
    public synchronized long cutAfterRandom(Direction d, long maxBytes) {
        long n = 1 + (long) (random.nextDouble() * maxBytes);
        cutAfter(d, Math.min(n, maxBytes));
        return Math.min(n, maxBytes);
    }

    /** Ends partitions and cuts; connections held in a black hole connect through now. */
    public void heal() {
        List<Socket> release;
        synchronized (this) {
            Arrays.fill(partitioned, false);
            cut = null;
            release = new ArrayList<>(held);
            held.clear();
            Logger.info("fault proxy {}: heal ({} held connections go through)", address().getPort(), release.size());
            notifyAll();
        }
        for (Socket s : release) {
            Thread.ofVirtual().name("fault-proxy-connect").start(() -> connectThrough(s));
        }
    }

    /** Connections being forwarded now (not those held in a black hole). */
    public int openConnections() {
        return links.size();
    }

    /** Connections accepted so far, whatever became of them. */
    public synchronized long accepted() {
        return accepted;
    }

    public synchronized long forwarded(Direction d) {
        return forwarded[d.ordinal()];
    }

    /** Waits until {@code bytes} were forwarded in {@code d}; returns whether that happened in time. */
    public synchronized boolean awaitForwarded(Direction d, long bytes, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        while (forwarded[d.ordinal()] < bytes) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    @Override
    public void close() {
        List<Socket> release;
        synchronized (this) {
            closed = true;
            release = new ArrayList<>(held);
            held.clear();
            notifyAll();
        }
        closeQuietly(server);
        for (Socket s : release) {
            reset(s);
        }
        for (Link l : links) {
            l.kill(true);
        }
    }

    private void acceptLoop() {
        while (true) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            WhileCut now;
            synchronized (this) {
                accepted++;
                now = cut;
                if (now == WhileCut.BLACK_HOLE) {
                    held.add(s);
                }
                notifyAll();
            }
            if (now == WhileCut.REFUSE) {
                reset(s);
            } else if (now == null) {
                Thread.ofVirtual().name("fault-proxy-connect").start(() -> connectThrough(s));
            }
        }
    }

    private void connectThrough(Socket client) {
        Socket upstream = new Socket();
        try {
            upstream.setReceiveBufferSize(RECEIVE_BUFFER);
            upstream.connect(target, CONNECT_TIMEOUT_MILLIS);
            upstream.setTcpNoDelay(true);
            client.setTcpNoDelay(true);
        } catch (IOException e) {
            // The target is down: the client sees its connection reset, as it would connecting directly.
            reset(client);
            closeQuietly(upstream);
            return;
        }
        Link l = new Link(client, upstream);
        links.add(l);
        synchronized (this) {
            if (closed || cut != null) {
                l.kill(true);
                return;
            }
        }
        l.start();
    }

    /** One proxied connection: a pump each way. */
    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private final Pump toTarget;
        private final Pump fromTarget;
        private boolean dead;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
            this.toTarget = new Pump(this, Direction.TO_TARGET, client, upstream);
            this.fromTarget = new Pump(this, Direction.FROM_TARGET, upstream, client);
        }

        void start() {
            toTarget.start();
            fromTarget.start();
        }

        /** Ends the connection: with a reset, or with FIN after what was written (a clean end of stream). */
        void kill(boolean rst) {
            synchronized (FaultProxy.this) {
                if (dead) {
                    return;
                }
                dead = true;
                FaultProxy.this.notifyAll();
            }
            links.remove(this);
            if (rst) {
                reset(client);
                reset(upstream);
            } else {
                for (Socket s : List.of(client, upstream)) {
                    try {
                        s.shutdownOutput();
                    } catch (IOException e) {
                        // already gone
                    }
                    closeQuietly(s);
                }
            }
        }

        boolean dead() {
            synchronized (FaultProxy.this) {
                return dead;
            }
        }

        /** Both ways reached end of stream: the connection ended cleanly. */
        void finished() {
            if (toTarget.done && fromTarget.done) {
                kill(false);
            }
        }
    }

    /** One direction of one link: a reader thread queues chunks, a writer thread applies the faults and writes them. */
    private final class Pump {
        private static final byte[] EOF = new byte[0];
        private final Link link;
        private final Direction d;
        private final Socket from;
        private final Socket to;
        private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
        private final ArrayDeque<Long> due = new ArrayDeque<>();
        private long queuedBytes;
        private long lastDue = Long.MIN_VALUE; // nanoTime may be negative
        private volatile boolean done;

        Pump(Link link, Direction d, Socket from, Socket to) {
            this.link = link;
            this.d = d;
            this.from = from;
            this.to = to;
        }

        void start() {
            Thread.ofVirtual().name("fault-proxy-read-" + d).start(this::readLoop);
            Thread.ofVirtual().name("fault-proxy-write-" + d).start(this::writeLoop);
        }

        private void readLoop() {
            byte[] buf = new byte[CHUNK];
            try {
                // Not try-with-resources: closing a socket's stream closes the socket, and the
                // other direction still writes to it after this one has seen end of stream.
                InputStream in = from.getInputStream();
                while (true) {
                    int n = in.read(buf);
                    byte[] chunk = n < 0 ? EOF : Arrays.copyOf(buf, n);
                    synchronized (FaultProxy.this) {
                        while (queuedBytes >= QUEUE_BYTES && !link.dead && !closed) {
                            FaultProxy.this.wait();
                        }
                        if (link.dead || closed) {
                            return;
                        }
                        int i = d.ordinal();
                        long delay = delayMax[i] == 0 ? 0 : delayMin[i] + (long) (random.nextDouble() * (delayMax[i] - delayMin[i]));
                        // due times on the monotonic clock, in nanoseconds: currentTimeMillis's whole milliseconds let a
                        // 400 ms delay release after 399.1 ms (CI saw "delayed: 399 ms")
                        lastDue = Math.max(lastDue, System.nanoTime() + delay * 1_000_000L);
                        chunks.addLast(chunk);
                        due.addLast(lastDue);
                        queuedBytes += chunk.length;
                        FaultProxy.this.notifyAll();
                    }
                    if (n < 0) {
                        return;
                    }
                }
            } catch (IOException e) {
                link.kill(true);
            } catch (InterruptedException e) {
                link.kill(true);
            }
        }

        private void writeLoop() {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    byte[] chunk;
                    int allowed;
                    boolean cutNow = false;
                    synchronized (FaultProxy.this) {
                        int i = d.ordinal();
                        while (true) {
                            if (link.dead || closed) {
                                return;
                            }
                            long waitNanos = chunks.isEmpty() ? 0 : due.peekFirst() - System.nanoTime();
                            if (!chunks.isEmpty() && waitNanos <= 0 && !partitioned[i]) {
                                break;
                            }
                            // round up: wait(0) would mean for ever
                            FaultProxy.this.wait(chunks.isEmpty() || partitioned[i] ? 0 : (waitNanos + 999_999) / 1_000_000);
                        }
                        chunk = chunks.removeFirst();
                        due.removeFirst();
                        queuedBytes -= chunk.length;
                        allowed = chunk.length;
                        if (cutAfter[i] >= 0) {
                            allowed = (int) Math.min(chunk.length, cutAfter[i]);
                            cutAfter[i] -= allowed;
                            if (cutAfter[i] == 0) {
                                cutNow = true;
                                cutAfter[i] = -1;
                            }
                        }
                        FaultProxy.this.notifyAll();
                    }
                    if (chunk == EOF && !cutNow) {
                        to.shutdownOutput();
                        done = true;
                        link.finished();
                        return;
                    }
                    if (allowed > 0) {
                        out.write(chunk, 0, allowed);
                        out.flush();
                        synchronized (FaultProxy.this) {
                            forwarded[d.ordinal()] += allowed;
                            FaultProxy.this.notifyAll();
                        }
                    }
                    if (cutNow) {
                        Logger.info("fault proxy {}: cut after the set bytes {}", address().getPort(), d);
                        for (Link l : links) {
                            l.kill(false);
                        }
                        return;
                    }
                }
            } catch (IOException e) {
                link.kill(true);
            } catch (InterruptedException e) {
                link.kill(true);
            }
        }
    }

    /** Closes with SO_LINGER 0: the other end sees a reset, not an orderly end of stream. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException e) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing what is already broken
        }
    }
}
