package io.ringstore.server;

import io.ringstore.jsonlines.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A raw Unix socket speaking JSON lines, for tests of the JSON-lines socket. */
final class JsonConnection implements AutoCloseable {
    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(64 << 10).flip();

    JsonConnection(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
    }

    void send(String... lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next line, or null at end of stream; fails after {@link RawConnection#TIMEOUT}. */
    String line() throws IOException {
        CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
            try {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                while (true) {
                    if (!in.hasRemaining()) {
                        in.clear();
                        int n = channel.read(in);
                        in.flip();
                        if (n < 0) {
                            return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
                        }
                    }
                    byte b = in.get();
                    if (b == '\n') {
                        return line.toString(StandardCharsets.UTF_8);
                    }
                    line.write(b);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        try {
            return f.get(RawConnection.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no line within " + RawConnection.TIMEOUT);
        } catch (InterruptedException e) {
            throw new IOException(e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException(e.getCause());
        }
    }

    /** The next line as a JSON object. */
    Map<?, ?> json() throws IOException {
        String l = line();
        if (l == null) {
            throw new AssertionError("the connection ended where a line was expected");
        }
        try {
            return (Map<?, ?>) Json.parse(l);
        } catch (Json.ParseException e) {
            throw new AssertionError("not JSON: " + l, e);
        }
    }

    /** Sends one line and returns its answer. */
    Map<?, ?> ask(String line) throws IOException {
        send(line);
        return json();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
