package io.ringstore.server;

import io.ringstore.protocol.Framing;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A socket speaking raw frames, for tests that need to send what the client library never would. */
public final class RawConnection implements AutoCloseable {
    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final SocketChannel channel;
    private final Framing.Reader reader;

    public RawConnection(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        reader = new Framing.Reader(channel, 8192);
    }

    public void send(Request... requests) throws IOException {
        Framing.Writer w = new Framing.Writer(1024);
        for (Request r : requests) {
            w.add(r);
        }
        writeBytes(w.buffer());
    }

    public void writeBytes(byte[] bytes) throws IOException {
        writeBytes(ByteBuffer.wrap(bytes));
    }

    private void writeBytes(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next response, or null at end of stream; fails the test after {@link #TIMEOUT}. */
    public Response next() throws IOException {
        CompletableFuture<Response> f = CompletableFuture.supplyAsync(() -> {
            try {
                int n = reader.readLength(RingStoreClientLimits.MAX);
                return n < 0 ? null : Response.parseFrom(reader.readBody(n));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        try {
            return f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no response within " + TIMEOUT);
        } catch (InterruptedException e) {
            throw new IOException(e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException(e.getCause());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static final class RingStoreClientLimits {
        static final int MAX = io.ringstore.client.RingStoreClient.MAX_RESPONSE_BYTES;
    }
}
