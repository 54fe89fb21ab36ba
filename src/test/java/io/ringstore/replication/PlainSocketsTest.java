package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The plain-TCP sockets tests use: the same contract as TLS, minus the proof of who is at the other end. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PlainSocketsTest {
    @Test
    void connectsCarriesBytesAndCloses() throws Exception {
        PlainSockets sockets = new PlainSockets();
        ReplicationListener l = sockets.listen(InetSocketAddress.createUnresolved("127.0.0.1", 0));
        CompletableFuture<PeerConnection> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return l.accept();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (PeerConnection c = sockets.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                l.localAddress().getPort()), "b1", 5_000); PeerConnection s = accepted.get(10, TimeUnit.SECONDS)) {
            assertEquals("b1", c.peer());
            assertTrue(c.socket().getTcpNoDelay());
            c.socket().getOutputStream().write(5);
            assertEquals(5, s.socket().getInputStream().read());
            s.socket().getOutputStream().write(6);
            assertEquals(6, c.socket().getInputStream().read());
        }
        l.close();
        assertThrows(SocketException.class, l::accept);
    }
}
