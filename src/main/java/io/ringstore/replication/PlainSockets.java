package io.ringstore.replication;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;

/**
 * Plain TCP, no authentication, no encryption: for tests that want to see or damage the bytes
 * on the wire. No config key selects it; the daemon only replicates over {@link io.ringstore.replication.tls.TlsSockets}.
 */
public final class PlainSockets implements ReplicationSockets {
    @Override
    public ReplicationListener listen(InetSocketAddress address) throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(ReplicationConfig.resolve(address), 16);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        return new ReplicationListener() {
            @Override
            public PeerConnection accept() throws IOException {
                Socket s = server.accept();
                configure(s);
                return new PeerConnection(s, s.getRemoteSocketAddress().toString());
            }

            @Override
            public InetSocketAddress localAddress() {
                return (InetSocketAddress) server.getLocalSocketAddress();
            }

            @Override
            public void close() throws IOException {
                server.close();
            }
        };
    }

    @Override
    public PeerConnection connect(InetSocketAddress address, String expectedPeer, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(ReplicationConfig.resolve(address), timeoutMillis);
            configure(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new PeerConnection(s, expectedPeer);
    }

    /** Records are acknowledged at LAN speed only if small writes leave at once: no Nagle. */
    static void configure(Socket s) throws SocketException {
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
    }
}
