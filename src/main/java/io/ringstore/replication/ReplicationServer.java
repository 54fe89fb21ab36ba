package io.ringstore.replication;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.tinylog.Logger;

/**
 * This board's replication port: one {@link Shipper} thread per connection. Runs on every board
 * with replication configured: a primary ships from it, and any board answers probes (its epoch
 * and role) so that a returning primary can find out that it was replaced.
 */
public final class ReplicationServer implements AutoCloseable {
    private final ReplicationListener listener;
    private final Replication node;
    private final Thread acceptor;
    private final List<Shipper> shippers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    ReplicationServer(ReplicationListener listener, Replication node) {
        this.listener = listener;
        this.node = node;
        this.acceptor = Thread.ofPlatform().name("ringstore-replication-accept").daemon().start(this::accept);
    }

    static ReplicationServer start(ReplicationOptions options, Replication node) throws IOException {
        ReplicationListener l = options.sockets().listen(options.listen());
        Logger.info("replication: listening address={} board={}", l.localAddress(), options.board());
        return new ReplicationServer(l, node);
    }

    public int port() {
        return listener.localAddress().getPort();
    }

    private void accept() {
        int n = 0;
        while (!closed) {
            PeerConnection s;
            try {
                // Over TLS only configured peers that proved who they are come out of here.
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    Logger.error("replication: accepting failed: {}", e.toString());
                }
                return;
            }
            Shipper shipper = new Shipper(s, node, shippers::remove);
            shippers.add(shipper);
            Thread.ofPlatform().name("ringstore-ship-" + (++n)).daemon().start(shipper);
        }
    }

    /** Ends every shipping connection (fencing, promotion of another board, stop). */
    void dropAll() {
        for (Shipper s : shippers) {
            s.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // Closing is all we wanted.
        }
        dropAll();
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
