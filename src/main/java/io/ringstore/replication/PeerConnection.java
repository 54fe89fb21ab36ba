package io.ringstore.replication;

import java.io.IOException;
import java.net.Socket;

/**
 * A connection to another board, after it was let in.
 *
 * @param socket connected, blocking, {@code TCP_NODELAY} on, no read timeout; read and write
 *               through its streams (over TLS these encrypt)
 * @param peer   the configured name of the board at the other end, proven by its certificate
 *               ({@link PlainSockets}: the name the caller expected, or the remote address on the
 *               accepting side, since nothing is proven there)
 */
public record PeerConnection(Socket socket, String peer) implements AutoCloseable {
    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public String toString() {
        return peer + "@" + socket.getRemoteSocketAddress();
    }
}
