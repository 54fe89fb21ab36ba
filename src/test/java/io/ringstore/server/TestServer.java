package io.ringstore.server;

import io.ringstore.client.RingStoreClient;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;

/** A store and its socket server in a folder, for tests; closes both (and its clients). */
public final class TestServer implements AutoCloseable {
    public final RingStore store;
    public final SocketServer server;
    public final Path socket;
    public final GatedIo io;
    private final List<RingStoreClient> clients = new ArrayList<>();

    /** The real storage, whose forces can be held at a gate (to make answers come out of order). */
    public static final class GatedIo extends ForwardingIo {
        private volatile CountDownLatch gate;
        private volatile CountDownLatch reached;

        /** From now on a force waits until {@link #open()}; returns a latch that counts down when one is waiting. */
        public CountDownLatch hold() {
            reached = new CountDownLatch(1);
            gate = new CountDownLatch(1);
            return reached;
        }

        public void open() {
            CountDownLatch g = gate;
            gate = null;
            if (g != null) {
                g.countDown();
            }
        }

        @Override
        public void force(MemorySegment mapping, long offset, long length) throws IOException {
            CountDownLatch g = gate;
            if (g != null) {
                reached.countDown();
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted at the force gate", e);
                }
            }
            super.force(mapping, offset, length);
        }
    }

    private TestServer(RingStore store, SocketServer server, GatedIo io) {
        this.store = store;
        this.server = server;
        this.socket = server.socketPath();
        this.io = io;
    }

    public static TestServer start(Path dir) throws IOException {
        return start(dir, c -> c);
    }

    public static TestServer start(Path dir, UnaryOperator<ServerConfig> configure) throws IOException {
        return start(dir, configure, c -> c);
    }

    public static TestServer start(Path dir, UnaryOperator<ServerConfig> configure, UnaryOperator<StoreConfig> store)
            throws IOException {
        GatedIo io = new GatedIo();
        return start(dir, configure, store.apply(StoreConfig.defaults(dir.resolve("data")).withSegmentSize(1 << 20).withIo(io)), io);
    }

    private static TestServer start(Path dir, UnaryOperator<ServerConfig> configure, StoreConfig config, GatedIo io)
            throws IOException {
        RingStore store = RingStore.open(config);
        try {
            SocketServer server = SocketServer.start(store, configure.apply(ServerConfig.defaults(dir.resolve("rs.sock"))));
            return new TestServer(store, server, io);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public RingStoreClient client() throws IOException {
        RingStoreClient c = RingStoreClient.connect(socket);
        synchronized (clients) {
            clients.add(c);
        }
        return c;
    }

    @Override
    public void close() throws IOException {
        io.open();
        synchronized (clients) {
            clients.forEach(RingStoreClient::close);
        }
        server.close();
        store.close();
    }

    /** Delegates every call to the real file storage (tests override what they watch). */
    public static class ForwardingIo extends io.ringstore.log.ForwardingStorageIo {}
}
