package io.ringstore.replication;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Where log shipping gets its connections between boards: {@link io.ringstore.replication.tls.TlsSockets}
 * in the daemon (mutual TLS, each side proven to be a configured peer), {@link PlainSockets} in
 * tests that want to look at the bytes. Shipping never opens a socket itself, so it cannot open
 * an unauthenticated one by mistake.
 */
public interface ReplicationSockets {
    /**
     * Listens on {@code address} (port 0 for any). Only connections from configured peers that
     * completed the handshake come out of {@link ReplicationListener#accept()}; the others are
     * refused and logged there, and the listener keeps serving.
     */
    ReplicationListener listen(InetSocketAddress address) throws IOException;

    /**
     * Connects to the board named {@code expectedPeer} at {@code address} and returns once that
     * board has proven who it is and accepted this one.
     *
     * @param timeoutMillis bound on the TCP connect and, separately, on the handshake
     * @throws PeerRefusedException when either side refused the other (the reason says which and why)
     * @throws IOException          when the board cannot be reached
     */
    PeerConnection connect(InetSocketAddress address, String expectedPeer, int timeoutMillis) throws IOException;
}
