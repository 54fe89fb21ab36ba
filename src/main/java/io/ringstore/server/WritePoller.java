package io.ringstore.server;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.tinylog.Logger;

/**
 * The slow path of sending: one thread for the whole server that waits until a connection's
 * socket takes bytes again and then goes on writing its answers ({@link Outbound#drain}). An
 * answer is first written by the thread that has it (the writer at the end of its batch, a read
 * or subscription thread); only what the socket does not take at once comes here, that is, a
 * client that reads more slowly than it is answered.
 */
final class WritePoller implements Runnable {
    private final Selector selector;
    private final ConcurrentLinkedQueue<Outbound> waiting = new ConcurrentLinkedQueue<>();
    /** The outbounds waiting for their socket: the poller thread's, then (after it ended) close's. */
    private final java.util.Set<Outbound> parked = new java.util.HashSet<>();
    private final Thread thread;
    private volatile boolean closed;

    WritePoller() throws IOException {
        this.selector = Selector.open();
        // Not "ringstore-write-...": the kernel keeps a thread name's first 15 characters, and in
        // top, ps or a profile this thread would then pass for the writer.
        this.thread = Thread.ofPlatform().name("ringstore-poller").daemon().unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Takes over writing {@code o}'s answers once its socket takes bytes again. */
    void await(Outbound o) {
        waiting.add(o);
        selector.wakeup();
    }

    /** A connection was closed from outside: its outbound, if waiting here, ends at once. */
    void wakeup() {
        selector.wakeup();
    }

    @Override
    public void run() {
        List<Outbound> ready = new ArrayList<>();
        while (!closed) {
            try {
                selector.select();
            } catch (IOException e) {
                Logger.error("write poller select failed: {}", e.toString());
                break;
            }
            for (Outbound o; (o = waiting.poll()) != null; ) {
                parked.add(o);
                try {
                    o.channel().register(selector, SelectionKey.OP_WRITE, o);
                } catch (ClosedChannelException | CancelledKeyException e) {
                    // Closed: found below, its next write fails and it ends.
                }
            }
            for (SelectionKey k : selector.selectedKeys()) {
                Outbound o = (Outbound) k.attachment();
                try {
                    k.interestOps(0);
                } catch (CancelledKeyException e) {
                    // Closed meanwhile: drained below all the same.
                }
                if (parked.remove(o)) {
                    ready.add(o);
                }
            }
            selector.selectedKeys().clear();
            // A closed channel's key is cancelled and never selected: end those outbounds here.
            for (var it = parked.iterator(); it.hasNext(); ) {
                Outbound o = it.next();
                if (!o.channel().isOpen()) {
                    it.remove();
                    ready.add(o);
                }
            }
            for (Outbound o : ready) {
                o.drain();
            }
            ready.clear();
        }
    }

    /**
     * Stops the thread (after the server closed its connections). Answers still waiting for a
     * socket are dropped and released, so that no connection waits for them.
     */
    void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (thread.isAlive()) {
            Logger.warn("write poller did not stop in time");
            return;
        }
        for (Outbound o; (o = waiting.poll()) != null; ) {
            parked.add(o);
        }
        for (Outbound o : parked) {
            try {
                o.channel().close();
            } catch (IOException e) {
                Logger.debug("closing a channel failed: {}", e.toString());
            }
            o.drain();
        }
        parked.clear();
        try {
            selector.close();
        } catch (IOException e) {
            Logger.debug("write poller close failed: {}", e.toString());
        }
    }
}
