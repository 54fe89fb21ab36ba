package io.ringstore.replication.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.replication.PeerConnection;
import io.ringstore.replication.PeerRefusedException;
import io.ringstore.replication.ReplicationListener;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS between boards on loopback, with real keys made by keygen (keytool) and real
 * sockets: configured peers connect and carry bytes both ways; a wrong key, an unconfigured
 * board, an expired or future certificate, plain text and a silent client are refused, logged
 * with the reason, and the listener keeps serving the good peer afterwards.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationTlsTest {
    @TempDir
    static Path root;
    /** Board name -> folder holding its key store and certificate. */
    private static final Map<String, Path> keys = new ConcurrentHashMap<>();

    private ReplicationListener listener;
    private TlsSockets b1;

    @BeforeAll
    static void makeKeys() throws Exception {
        // keytool is a JVM start each: make them all at once.
        record Spec(String folder, String name, int days, String start) {}
        List<Spec> specs = List.of(new Spec("b1", "b1", 30, "-1d"), new Spec("b2", "b2", 30, "-1d"),
                new Spec("b3", "b3", 30, "-1d"), new Spec("imposter", "b2", 30, "-1d"),
                new Spec("b4", "b4", 1, "-3d"), new Spec("b5", "b5", 30, "+2d"));
        try (ExecutorService pool = Executors.newFixedThreadPool(3)) {
            List<Future<Object>> done = specs.stream().map(s -> pool.submit(() -> {
                BoardKeys.generate(s.name(), root.resolve(s.folder()), s.days(), s.start(), null);
                keys.put(s.folder(), root.resolve(s.folder()));
                return null;
            })).toList();
            for (Future<Object> f : done) {
                f.get();
            }
        }
        // Every board's trust folder holds every certificate; only the configured ones count.
        for (String board : specs.stream().map(Spec::folder).toList()) {
            Path peers = Files.createDirectories(root.resolve(board).resolve("peers"));
            for (String other : List.of("b1", "b2", "b3", "b4", "b5")) {
                Files.copy(root.resolve(other).resolve(other + ".crt"), peers.resolve(other + ".crt"));
            }
        }
    }

    /** A board's sockets: its own key (from {@code folder}) and the peers it is configured with. */
    private static TlsSockets board(String folder, String name, int handshakeMillis, String... peers) throws Exception {
        Path dir = root.resolve(folder);
        return new TlsSockets(TlsMaterial.load(dir.resolve(name + ".p12"), dir.resolve("peers"), List.of(peers)),
                handshakeMillis);
    }

    @BeforeEach
    void listen() throws Exception {
        // b1 is configured with b2, the expired b4 and the future b5; b3 is not configured.
        b1 = board("b1", "b1", 2_000, "b2", "b4", "b5");
        listener = b1.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
    }

    private void acceptAsync(CompletableFuture<PeerConnection> f) {
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(listener.accept());
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
    }

    /** The good peer still gets in: the listener kept serving after a refusal. */
    private void assertB2StillConnects() throws Exception {
        CompletableFuture<PeerConnection> accepted = new CompletableFuture<>();
        acceptAsync(accepted);
        try (PeerConnection c = board("b2", "b2", 5_000, "b1").connect(listener.localAddress(), "b1", 5_000);
             PeerConnection s = accepted.get(10, TimeUnit.SECONDS)) {
            assertEquals("b2", s.peer());
            c.socket().getOutputStream().write(42);
            assertEquals(42, s.socket().getInputStream().read());
        }
    }

    private String lastRefusalReason() throws InterruptedException {
        assertTrue(b1.refusals().awaitCount(1, 10_000), "the listener logged no refusal");
        List<Refusals.Refusal> r = b1.refusals().recent();
        assertTrue(r.getLast().inbound());
        return r.getLast().reason();
    }

    @Test
    void configuredPeersHandshakeAndCarryBytesBothWays() throws Exception {
        CompletableFuture<PeerConnection> accepted = new CompletableFuture<>();
        acceptAsync(accepted);
        TlsSockets b2 = board("b2", "b2", 5_000, "b1");
        byte[] up = new byte[256 * 1024];
        byte[] down = new byte[200_000];
        new Random(15).nextBytes(up);
        new Random(16).nextBytes(down);
        try (PeerConnection client = b2.connect(listener.localAddress(), "b1", 5_000);
             PeerConnection server = accepted.get(10, TimeUnit.SECONDS)) {
            assertEquals("b2", server.peer(), "the accepting side knows which configured peer connected");
            assertEquals("b1", client.peer());
            SSLSocket tls = assertInstanceOf(SSLSocket.class, client.socket());
            assertEquals("TLSv1.3", tls.getSession().getProtocol());
            assertEquals("TLS_CHACHA20_POLY1305_SHA256", tls.getSession().getCipherSuite(), "fast without AES instructions");
            assertTrue(client.socket().getTcpNoDelay());
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    client.socket().getOutputStream().write(up);
                    client.socket().getOutputStream().flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] gotUp = new byte[up.length];
            new DataInputStream(server.socket().getInputStream()).readFully(gotUp);
            writer.join();
            server.socket().getOutputStream().write(down);
            server.socket().getOutputStream().flush();
            byte[] gotDown = new byte[down.length];
            new DataInputStream(client.socket().getInputStream()).readFully(gotDown);
            assertArrayEquals(up, gotUp);
            assertArrayEquals(down, gotDown);
        }
        assertEquals(0, b1.refusals().count());
    }

    @Test
    void anotherKeyUnderAConfiguredNameIsRefused() throws Exception {
        // Made with --name b2 on some other machine: right name, wrong key.
        TlsSockets imposter = board("imposter", "b2", 5_000, "b1");
        PeerRefusedException e = assertThrows(PeerRefusedException.class,
                () -> imposter.connect(listener.localAddress(), "b1", 5_000));
        assertTrue(e.reason().contains("refused this board"), e.getMessage());
        String reason = lastRefusalReason();
        assertTrue(reason.contains("claims to be b2 but is not the pinned one"), reason);
        assertB2StillConnects();
    }

    @Test
    void aValidBoardThatIsNotConfiguredIsRefused() throws Exception {
        // b3's certificate is in b1's folder, and b3 trusts b1; b1's replication_peers does not name b3.
        TlsSockets b3 = board("b3", "b3", 5_000, "b1");
        assertThrows(PeerRefusedException.class, () -> b3.connect(listener.localAddress(), "b1", 5_000));
        String reason = lastRefusalReason();
        assertTrue(reason.contains("CN=b3") && reason.contains("is not a configured peer's"), reason);
        assertB2StillConnects();
    }

    @Test
    void theConnectingSideRefusesABoardItDidNotMeanToReach() throws Exception {
        // b2 means to reach b1, but b3 answers at that address.
        TlsSockets b3 = board("b3", "b3", 5_000, "b2");
        TlsSockets b2 = board("b2", "b2", 5_000, "b1", "b3");
        try (ReplicationListener atB3 = b3.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            PeerRefusedException e = assertThrows(PeerRefusedException.class,
                    () -> b2.connect(atB3.localAddress(), "b1", 5_000));
            assertTrue(e.reason().contains("CN=b3") && e.reason().contains("expected b1"), e.reason());
            assertEquals(1, b2.refusals().count());
            assertTrue(!b2.refusals().recent().getLast().inbound());
        }
    }

    @Test
    void expiredCertificateIsRefused() throws Exception {
        TlsSockets b4 = board("b4", "b4", 5_000, "b1");
        assertThrows(PeerRefusedException.class, () -> b4.connect(listener.localAddress(), "b1", 5_000));
        String reason = lastRefusalReason();
        assertTrue(reason.contains("certificate of b4 expired on"), reason);
        assertB2StillConnects();
    }

    @Test
    void notYetValidCertificateIsRefused() throws Exception {
        TlsSockets b5 = board("b5", "b5", 5_000, "b1");
        assertThrows(PeerRefusedException.class, () -> b5.connect(listener.localAddress(), "b1", 5_000));
        String reason = lastRefusalReason();
        assertTrue(reason.contains("certificate of b5 is not valid before"), reason);
    }

    @Test
    void plainTextOnTheTlsPortIsRefusedAndOthersAreStillServed() throws Exception {
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertClosedByServer(raw.getInputStream());
        }
        String reason = lastRefusalReason();
        assertTrue(reason.startsWith("not TLS"), reason);
        assertB2StillConnects();
    }

    @Test
    void aSilentClientIsTimedOutWithoutHoldingUpOthers() throws Exception {
        listener.close();
        b1 = board("b1", "b1", 4_000, "b2");
        listener = b1.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            long start = System.nanoTime();
            assertB2StillConnects(); // while the silent one is still in its handshake
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, b1.refusals().count(), "b2 got in only after the silent client timed out (" + tookMillis + " ms)");
            assertEquals("no TLS handshake within 4000 ms", lastRefusalReason());
        }
    }

    @Test
    void handshakesInProgressAreBoundedAndTheOneTooManyIsRefused() throws Exception {
        listener.close();
        b1 = board("b1", "b1", 10_000, "b2");
        listener = b1.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        List<Socket> silent = new java.util.ArrayList<>();
        try {
            for (int i = 0; i <= TlsSockets.MAX_PENDING_HANDSHAKES; i++) {
                silent.add(new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort()));
            }
            assertEquals("too many handshakes in progress (" + TlsSockets.MAX_PENDING_HANDSHAKES + ")", lastRefusalReason());
            silent.getLast().setSoTimeout(10_000);
            assertClosedByServer(silent.getLast().getInputStream());
        } finally {
            for (Socket s : silent) {
                s.close();
            }
        }
    }

    @Test
    void connectingToAnUnconfiguredNameIsAProgrammingError() throws Exception {
        TlsSockets b2 = board("b2", "b2", 5_000, "b1");
        assertThrows(IllegalArgumentException.class, () -> b2.connect(listener.localAddress(), "b3", 1_000));
    }

    @Test
    void throughTheFaultProxyAPartitionIsATimeoutNotARefusalAndACutReachesBothEnds() throws Exception {
        TlsSockets b2 = board("b2", "b2", 5_000, "b1");
        try (io.ringstore.replication.FaultProxy proxy = io.ringstore.replication.FaultProxy.start(listener.localAddress(), 15)) {
            CompletableFuture<PeerConnection> accepted = new CompletableFuture<>();
            acceptAsync(accepted);
            try (PeerConnection c = b2.connect(proxy.address(), "b1", 5_000);
                 PeerConnection s = accepted.get(10, TimeUnit.SECONDS)) {
                c.socket().getOutputStream().write(new byte[] {1, 2, 3});
                c.socket().getOutputStream().flush();
                assertEquals(3, s.socket().getInputStream().readNBytes(3).length);
                proxy.cut(io.ringstore.replication.FaultProxy.WhileCut.REFUSE);
                c.socket().setSoTimeout(10_000);
                s.socket().setSoTimeout(10_000);
                assertTrue(endsWithin(c.socket().getInputStream()), "the connecting side sees the cut");
                assertTrue(endsWithin(s.socket().getInputStream()), "the accepting side sees the cut");
            }
            // While cut, the proxy resets new connections: the network, not a refusal.
            IOException reset = assertThrows(IOException.class, () -> b2.connect(proxy.address(), "b1", 5_000));
            assertTrue(!(reset instanceof PeerRefusedException), reset.toString());
            proxy.heal();
            proxy.partition(io.ringstore.replication.FaultProxy.Direction.FROM_TARGET);
            // The server's half of the handshake never arrives: a timeout, which shipping retries,
            // not a refusal, which needs an operator.
            IOException e = assertThrows(IOException.class, () -> b2.connect(proxy.address(), "b1", 1_000));
            assertInstanceOf(java.net.SocketTimeoutException.class, e, e.toString());
            assertEquals(0, b2.refusals().count());
        }
    }

    /** Reads until the connection ends by end of stream or reset; false if it stays open past the read timeout. */
    private static boolean endsWithin(InputStream in) {
        try {
            while (in.read() != -1) {
                // drain
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** The server ends the connection: an alert then end of stream, or a reset. */
    private static void assertClosedByServer(InputStream in) {
        try {
            while (in.read() != -1) {
                // a TLS alert may come first: read through it
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("the server kept a plain-text connection open", e);
        } catch (IOException e) {
            // reset: closed too
        }
    }
}
