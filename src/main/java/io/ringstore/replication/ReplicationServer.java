package io.ringstore.replication;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.tinylog.Logger;

/**
 * This board's replication port: one {@link Shipper} thread per connection. Runs on every board
 * with replication configured: a primary ships from it, and any board answers probes (its epoch
 * and role) so that a returning primary can find out that it was replaced.
 */
public final class ReplicationServer implements AutoCloseable {
    private final ServerSocket listener;
    private final Replication node;
    private final Thread acceptor;
    private final List<Shipper> shippers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    ReplicationServer(ServerSocket listener, Replication node) {
        this.listener = listener;
        this.node = node;
        this.acceptor = Thread.ofPlatform().name("ringstore-replication-accept").daemon().start(this::accept);
    }

    static ReplicationServer start(ReplicationOptions options, Replication node) throws IOException {
        ServerSocket ss = options.sockets().listen(options.listen());
        Logger.info("replication: listening address={} board={}", ss.getLocalSocketAddress(), options.board());
        return new ReplicationServer(ss, node);
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        int n = 0;
        while (!closed) {
            Socket s;
            try {
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
