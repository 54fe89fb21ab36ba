package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.replication.FaultProxy.Direction;
import io.ringstore.replication.FaultProxy.WhileCut;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fault proxy itself, against a real target on loopback: what passes, what is held, what is cut. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultProxyTest {
    private static final long SEED = 15;
    /** How long "nothing arrives" is watched for. */
    private static final int QUIET_MILLIS = 500;

    private Target target;
    private FaultProxy proxy;

    /** The far end: hands each accepted connection to the test, and echoes if asked. */
    private static final class Target implements AutoCloseable {
        final ServerSocket server;
        final LinkedBlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
        volatile boolean echo;

        Target() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (true) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    accepted.add(s);
                    if (echo) {
                        Thread.ofVirtual().start(() -> {
                            try {
                                s.getInputStream().transferTo(s.getOutputStream());
                                s.shutdownOutput();
                            } catch (IOException e) {
                                // the test cut it
                            }
                        });
                    }
                }
            });
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        Socket next() throws InterruptedException {
            Socket s = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(s, "the target got no connection");
            return s;
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    @BeforeEach
    void start() throws IOException {
        target = new Target();
        proxy = FaultProxy.start(target.address(), SEED);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        target.close();
    }

    private Socket client() throws IOException {
        Socket s = new Socket(proxy.address().getAddress(), proxy.address().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    @Test
    void bytesPassByteForByteBothWays() throws Exception {
        target.echo = true;
        byte[] sent = new byte[4 << 20];
        new Random(SEED).nextBytes(sent);
        try (Socket c = client()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    c.getOutputStream().write(sent);
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] back = new byte[sent.length];
            new DataInputStream(c.getInputStream()).readFully(back);
            writer.join();
            assertArrayEquals(sent, back);
            assertEquals(-1, c.getInputStream().read(), "the target's end of stream came through after the bytes");
        }
        assertTrue(proxy.awaitForwarded(Direction.FROM_TARGET, sent.length, 5_000));
        assertEquals(sent.length, proxy.forwarded(Direction.TO_TARGET));
        assertEquals(sent.length, proxy.forwarded(Direction.FROM_TARGET));
    }

    @Test
    void delayHoldsOneDirectionOnly() throws Exception {
        proxy.delay(Direction.TO_TARGET, 400, 400);
        try (Socket c = client(); Socket t = target.next()) {
            t.setSoTimeout(10_000);
            long start = System.nanoTime();
            c.getOutputStream().write(1);
            assertEquals(1, t.getInputStream().read());
            long toTargetMillis = (System.nanoTime() - start) / 1_000_000;
            start = System.nanoTime();
            t.getOutputStream().write(2);
            assertEquals(2, c.getInputStream().read());
            long backMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(toTargetMillis >= 400, "delayed: " + toTargetMillis + " ms");
            assertTrue(backMillis < 400, "not delayed the other way: " + backMillis + " ms");
        }
    }

    @Test
    void jitteredDelayKeepsTheOrderOfTheBytes() throws Exception {
        proxy.delay(Direction.TO_TARGET, 0, 30);
        try (Socket c = client(); Socket t = target.next()) {
            t.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(c.getOutputStream());
            for (int i = 0; i < 200; i++) {
                out.writeInt(i); // separate small writes: separate chunks, each with its own delay
                out.flush();
                if (i % 20 == 0) {
                    Thread.sleep(5); // let some chunks get their own delays; spacing writes, not waiting for a thread
                }
            }
            DataInputStream in = new DataInputStream(t.getInputStream());
            for (int i = 0; i < 200; i++) {
                assertEquals(i, in.readInt());
            }
        }
    }

    @Test
    void oneWayPartitionStopsExactlyOneDirectionAndHealDeliversWhatWasHeld() throws Exception {
        try (Socket c = client(); Socket t = target.next()) {
            proxy.partition(Direction.TO_TARGET);
            c.getOutputStream().write("held".getBytes());
            t.setSoTimeout(QUIET_MILLIS);
            assertThrows(SocketTimeoutException.class, () -> t.getInputStream().read(), "nothing reaches the target");

            t.getOutputStream().write("back".getBytes());
            assertEquals("back", new String(c.getInputStream().readNBytes(4)), "the other way still flows");

            proxy.heal();
            t.setSoTimeout(10_000);
            assertEquals("held", new String(t.getInputStream().readNBytes(4)), "held, not lost: delivered on heal");
            assertEquals(1, proxy.openConnections(), "the connection stayed open through the partition");
        }
    }

    @Test
    void partitionBothWaysBlocksASenderOnceBuffersFillAndLosesNothing() throws Exception {
        try (Socket c = client(); Socket t = target.next()) {
            proxy.partition();
            byte[] sent = new byte[32 << 20];
            new Random(SEED + 1).nextBytes(sent);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    c.getOutputStream().write(sent);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.join(QUIET_MILLIS);
            assertTrue(writer.isAlive(), "32 MiB (more than the kernel buffers on both sides and the proxy queue) cannot all be taken while partitioned");
            assertEquals(0, proxy.forwarded(Direction.TO_TARGET));
            proxy.heal();
            t.setSoTimeout(10_000);
            byte[] got = new DataInputStream(t.getInputStream()).readNBytes(sent.length);
            writer.join();
            assertArrayEquals(sent, got);
        }
    }

    @Test
    void cutResetsEveryConnectionAndRefusesNewOnesUntilHeal() throws Exception {
        target.echo = true;
        try (Socket c = client()) {
            c.getOutputStream().write(7);
            assertEquals(7, c.getInputStream().read());
            proxy.cut(WhileCut.REFUSE);
            assertEnded(c.getInputStream());
        }
        target.accepted.clear();
        try (Socket late = client()) {
            assertEnded(late.getInputStream());
        }
        assertNull(target.accepted.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS), "nothing reached the target while cut");
        assertEquals(0, proxy.openConnections());

        proxy.heal();
        try (Socket c = client()) {
            c.getOutputStream().write(9);
            assertEquals(9, c.getInputStream().read(), "new connections go through after heal");
        }
    }

    @Test
    void blackHoleWhileCutHoldsNewConnectionsAndHealLetsThemThrough() throws Exception {
        proxy.cut(WhileCut.BLACK_HOLE);
        try (Socket c = client()) {
            c.getOutputStream().write("early".getBytes());
            assertNull(target.accepted.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS), "held in the black hole");
            c.setSoTimeout(QUIET_MILLIS);
            assertThrows(SocketTimeoutException.class, () -> c.getInputStream().read(), "the client hears nothing, not a reset");
            proxy.heal();
            try (Socket t = target.next()) {
                t.setSoTimeout(10_000);
                assertEquals("early", new String(t.getInputStream().readNBytes(5)));
            }
        }
    }

    @Test
    void cutAfterASeededRandomNumberOfBytesTearsTheStreamThere() throws Exception {
        long n = proxy.cutAfterRandom(Direction.TO_TARGET, 40_000);
        try (FaultProxy same = FaultProxy.start(target.address(), SEED)) {
            assertEquals(n, same.cutAfterRandom(Direction.TO_TARGET, 40_000), "the seed fixes the cut point");
        }
        target.accepted.clear();
        try (Socket c = client(); Socket t = target.next()) {
            t.setSoTimeout(10_000);
            byte[] sent = new byte[100_000];
            new Random(SEED).nextBytes(sent);
            Thread.ofVirtual().start(() -> {
                try {
                    c.getOutputStream().write(sent);
                } catch (IOException e) {
                    // the proxy closed it mid-write: expected
                }
            });
            byte[] got = t.getInputStream().readAllBytes();
            assertEquals(n, got.length, "exactly the set number of bytes, then end of stream");
            assertArrayEquals(java.util.Arrays.copyOf(sent, (int) n), got);
        }
    }

    /** The connection ends (reset or end of stream) without anything more arriving. */
    private static void assertEnded(InputStream in) {
        try {
            assertEquals(-1, in.read());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection stayed open", e);
        } catch (IOException e) {
            // reset: ended
        }
    }
}
