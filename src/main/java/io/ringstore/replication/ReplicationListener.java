package io.ringstore.replication;

import java.io.IOException;
import java.net.InetSocketAddress;

/** A listening replication port: hands out connections from peers that were let in. */
public interface ReplicationListener extends AutoCloseable {
    /**
     * Waits for the next peer that was let in.
     *
     * @throws java.net.SocketException once the listener is closed (also to a caller already waiting)
     */
    PeerConnection accept() throws IOException;

    /** The bound address (with the real port when port 0 was asked for). */
    InetSocketAddress localAddress();

    /** Stops listening; connections already handed out stay open (their owners close them). */
    @Override
    void close() throws IOException;
}
