package io.ringstore.replication;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Where replication gets its sockets: plain TCP here; the TLS layer supplies SSL sockets (mutual
 * authentication) through the same two calls, so nothing else in this package changes.
 */
public interface ReplicationSockets {
    /** Opens a connection to a peer's replication port. */
    Socket connect(InetSocketAddress to, int timeoutMillis) throws IOException;

    /** Listens on this board's replication port. */
    ServerSocket listen(InetSocketAddress at) throws IOException;

    /**
     * The peer's board name as the transport proved it (TLS: from its certificate), or null when
     * the transport proves nothing (plain TCP: the name in the hello is then only checked against
     * the peers list, which guards against a misconfigured board, not an attacker).
     */
    default String authenticatedBoard(Socket accepted) {
        return null;
    }

    /** Plain TCP: for a trusted network and for tests. */
    ReplicationSockets PLAIN = new ReplicationSockets() {
        @Override
        public Socket connect(InetSocketAddress to, int timeoutMillis) throws IOException {
            Socket s = new Socket();
            try {
                s.connect(to, timeoutMillis);
                s.setTcpNoDelay(true);
                return s;
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }

        @Override
        public ServerSocket listen(InetSocketAddress at) throws IOException {
            ServerSocket ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(at);
            return ss;
        }
    };
}
