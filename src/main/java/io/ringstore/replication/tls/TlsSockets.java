package io.ringstore.replication.tls;

import io.ringstore.replication.PeerConnection;
import io.ringstore.replication.PeerRefusedException;
import io.ringstore.replication.ReplicationConfig;
import io.ringstore.replication.ReplicationListener;
import io.ringstore.replication.ReplicationSockets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.tinylog.Logger;

/**
 * Replication connections over mutual TLS 1.3 with the JDK's own TLS: each board presents its
 * own key ({@link TlsMaterial}) and accepts only the pinned certificates of its configured
 * peers ({@link PeerTrust}). Certificates are self-signed: there is no CA to trust, every peer
 * is named one by one, so adding a board to one's folder of certificates is not enough to be
 * let in, and one board's key cannot stand in for another's.
 *
 * <p>The handshake is followed by one byte from the accepting side, so that the connecting
 * side learns it was let in before it sends anything (in TLS 1.3 the client finishes its
 * handshake before the server has checked the client's certificate):
 * <pre>
 *   accepting side -> connecting side, once, right after the handshake:
 *   offset 0, 1 byte: 0x52 ('R', ACCEPTED)
 *   a refusal is a TLS alert (or the connection closing) instead of this byte
 * </pre>
 *
 * <p>The accepting side runs each handshake on its own virtual thread, bounded in time and in
 * number, so a silent or garbage-sending client delays nobody else.
 */
public final class TlsSockets implements ReplicationSockets {
    public static final int DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    /** Handshakes in progress at once on one listener; more are refused until some finish. */
    static final int MAX_PENDING_HANDSHAKES = 32;
    static final int ACCEPTED = 0x52;
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    /**
     * ChaCha20 first: the cores of the Pi Zero 2 W, 3 and 4 have no AES instructions (the Pi 5's
     * have), and there software ChaCha20-Poly1305 is several times faster than software AES-GCM;
     * the JDK has ChaCha20 intrinsics for aarch64. Both sides run this code, and the accepting
     * side's order decides.
     */
    static final String[] CIPHER_SUITES = {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384"};

    private final TlsMaterial material;
    private final PeerTrust allPeers;
    private final SSLContext serverContext;
    private final int handshakeTimeoutMillis;
    private final Refusals refusals = new Refusals();

    public TlsSockets(TlsMaterial material, int handshakeTimeoutMillis) {
        this.material = material;
        this.allPeers = new PeerTrust(material.peers());
        this.serverContext = context(allPeers);
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** Reads the keys the config names; see {@link TlsMaterial#load(ReplicationConfig)}. */
    public static TlsSockets load(ReplicationConfig config) throws TlsMaterial.BadMaterial {
        return new TlsSockets(TlsMaterial.load(config), DEFAULT_HANDSHAKE_TIMEOUT_MILLIS);
    }

    /** This board's name, from its own certificate. */
    public String name() {
        return material.name();
    }

    public Set<String> peers() {
        return material.peers().keySet();
    }

    /** Connections refused at the handshake, both ways. */
    public Refusals refusals() {
        return refusals;
    }

    private SSLContext context(PeerTrust trust) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(new KeyManager[] {new BoardKeyManager(material)}, new TrustManager[] {trust}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            // TLS 1.3 is in every JDK since 11; failing here is a broken runtime, not bad input.
            throw new IllegalStateException("the JDK has no TLS 1.3", e);
        }
    }

    @Override
    public PeerConnection connect(InetSocketAddress address, String expectedPeer, int timeoutMillis) throws IOException {
        X509Certificate pinned = material.peers().get(expectedPeer);
        if (pinned == null) {
            throw new IllegalArgumentException("not a configured peer: " + expectedPeer + " (peers: " + peers() + ")");
        }
        InetSocketAddress target = ReplicationConfig.resolve(address);
        // A context per connection: it trusts only the board this connection means to reach.
        PeerTrust trust = new PeerTrust(Map.of(expectedPeer, pinned));
        SSLContext ctx = context(trust);
        Socket raw = new Socket();
        SSLSocket s = null;
        boolean connected = false;
        try {
            raw.connect(target, timeoutMillis);
            raw.setTcpNoDelay(true);
            raw.setKeepAlive(true);
            s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, target.getHostString(), target.getPort(), true);
            s.setUseClientMode(true);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(PROTOCOLS);
            p.setCipherSuites(CIPHER_SUITES);
            s.setSSLParameters(p);
            s.setSoTimeout(timeoutMillis);
            String refusal = null;
            boolean handshaken = false;
            try {
                s.startHandshake();
                handshaken = true;
                int b = s.getInputStream().read();
                if (b == -1) {
                    refusal = "the other board closed the connection after the handshake: it refused this board (its journal says why)";
                } else if (b != ACCEPTED) {
                    refusal = "the other end is not a ringstore replication port (sent 0x" + Integer.toHexString(b) + ")";
                }
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("no TLS handshake with " + expectedPeer + " at " + target + " within "
                        + timeoutMillis + " ms");
            } catch (SSLException e) {
                refusal = reason(e);
            } catch (SocketException e) {
                if (!trust.passed()) {
                    throw e; // before the other side had this board's certificate: the network, not a refusal
                }
                // The other side checks this board's certificate while this side is still
                // sending its Finished, or after its handshake is done; a reset or broken pipe
                // here is that check failing, the alert lost with the reset. (A network that
                // breaks in exactly this window is reported the same way; retrying tells.)
                refusal = "the other board dropped the connection " + (handshaken ? "after" : "during")
                        + " the handshake (" + e.getMessage() + "): it most likely refused this board (its journal says why)";
            }
            if (refusal != null) {
                refusals.refused(target, false, refusal);
                throw new PeerRefusedException("replication connection to " + expectedPeer + " at " + target + " refused",
                        refusal, null);
            }
            s.setSoTimeout(0);
            Logger.debug("replication connected: peer={} at={} protocol={} cipher={}", expectedPeer, target,
                    s.getSession().getProtocol(), s.getSession().getCipherSuite());
            connected = true;
            return new PeerConnection(s, expectedPeer);
        } finally {
            if (!connected) {
                // The TLS socket was made with autoClose: closing it closes the TCP one.
                closeQuietly(s != null ? s : raw);
            }
        }
    }

    @Override
    public ReplicationListener listen(InetSocketAddress address) throws IOException {
        SSLServerSocket server = (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket();
        try {
            SSLParameters p = server.getSSLParameters();
            p.setProtocols(PROTOCOLS);
            p.setCipherSuites(CIPHER_SUITES);
            p.setUseCipherSuitesOrder(true);
            p.setNeedClientAuth(true);
            server.setSSLParameters(p);
            server.setReuseAddress(true);
            server.bind(ReplicationConfig.resolve(address), 16);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        Listener l = new Listener(server);
        l.acceptThread.start();
        Logger.info("replication listening: address={} board={} peers={}", l.localAddress(), name(), peers());
        return l;
    }

    /**
     * Why a handshake failed, for the journal: the trust manager's own words when it refused a
     * certificate, else what the TLS layer saw.
     */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException) {
                return t.getMessage();
            }
        }
        String m = String.valueOf(e.getMessage());
        if (m.contains("Unsupported or unrecognized SSL message") || m.contains("plaintext connection")) {
            return "not TLS: plain text or garbage on the replication port (" + m + ")";
        }
        int alert = m.indexOf("Received fatal alert: ");
        if (alert >= 0) {
            return "the other board refused this board (TLS alert " + m.substring(alert + "Received fatal alert: ".length())
                    + "; its journal says why)";
        }
        return m;
    }

    /** The accept thread and the handshakes it starts; hands out connections that were let in. */
    private final class Listener implements ReplicationListener {
        private static final Object CLOSED = new Object();
        private final SSLServerSocket server;
        private final Thread acceptThread;
        private final LinkedBlockingQueue<Object> ready = new LinkedBlockingQueue<>();
        private final Semaphore pending = new Semaphore(MAX_PENDING_HANDSHAKES);
        private final InetSocketAddress local;
        private volatile boolean closed;

        Listener(SSLServerSocket server) {
            this.server = server;
            this.local = (InetSocketAddress) server.getLocalSocketAddress();
            this.acceptThread = Thread.ofPlatform().name("replication-accept-" + local.getPort()).daemon()
                    .unstarted(this::acceptLoop);
        }

        private void acceptLoop() {
            while (!closed) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    if (!closed) {
                        Logger.error("replication accept failed: address={} error={}", local, e.toString());
                        close();
                    }
                    return;
                }
                if (!pending.tryAcquire()) {
                    refusals.refused(s.getRemoteSocketAddress(), true,
                            "too many handshakes in progress (" + MAX_PENDING_HANDSHAKES + ")");
                    closeQuietly(s);
                    continue;
                }
                Thread.ofVirtual().name("replication-handshake").start(() -> {
                    try {
                        handshake((SSLSocket) s);
                    } finally {
                        pending.release();
                    }
                });
            }
        }

        private void handshake(SSLSocket s) {
            var remote = s.getRemoteSocketAddress();
            try {
                s.setSoTimeout(handshakeTimeoutMillis);
                s.setTcpNoDelay(true);
                s.setKeepAlive(true);
                s.startHandshake();
                String peer = allPeers.peerOf((X509Certificate) s.getSession().getPeerCertificates()[0]);
                if (peer == null) {
                    // PeerTrust passed it, so this cannot happen unless the JDK skipped the check.
                    refusals.refused(remote, true, "handshake finished without a pinned certificate");
                    closeQuietly(s);
                    return;
                }
                s.getOutputStream().write(ACCEPTED);
                s.getOutputStream().flush();
                s.setSoTimeout(0);
                Logger.info("replication peer connected: peer={} from={} protocol={}", peer, remote,
                        s.getSession().getProtocol());
                ready.add(new PeerConnection(s, peer));
                if (closed) {
                    drain();
                }
            } catch (SocketTimeoutException e) {
                refusals.refused(remote, true, "no TLS handshake within " + handshakeTimeoutMillis + " ms");
                closeQuietly(s);
            } catch (IOException e) {
                refusals.refused(remote, true, reason(e));
                closeQuietly(s);
            }
        }

        @Override
        public PeerConnection accept() throws IOException {
            Object o;
            try {
                o = ready.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for a replication peer");
            }
            if (o == CLOSED) {
                ready.add(CLOSED);
                throw new SocketException("replication listener closed: " + local);
            }
            return (PeerConnection) o;
        }

        @Override
        public InetSocketAddress localAddress() {
            return local;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(server);
            drain();
            ready.add(CLOSED);
            Logger.info("replication listener closed: address={}", local);
        }

        /** Connections let in but never taken are closed with the listener. */
        private synchronized void drain() {
            boolean sawClosed = false;
            for (Object o; (o = ready.poll()) != null; ) {
                if (o instanceof PeerConnection c) {
                    closeQuietly(c.socket());
                } else {
                    sawClosed = true;
                }
            }
            if (sawClosed) {
                ready.add(CLOSED);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            Logger.debug("closing a replication socket failed: {}", e.toString());
        }
    }
}
