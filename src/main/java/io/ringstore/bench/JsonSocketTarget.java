package io.ringstore.bench;

import io.ringstore.jsonlines.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The store through its JSON-lines socket, as a script or a non-Java program would use it: the
 * same daemon child as {@link SocketTarget}, one JSON connection per producer, each pipelining
 * its append lines (answers come back in order, so the n-th answer line completes the n-th
 * append). Payloads go as {@code data_base64} (the bench's payloads are random bytes). Opt-in
 * ({@code --targets socket,json}), to compare with the protobuf client in one run.
 */
final class JsonSocketTarget implements AppendTarget {
    private static final long CALL_TIMEOUT_SECONDS = 60;

    private final DaemonChild daemon;
    private final List<LineClient> clients;
    private final LineClient control;
    private volatile Map<?, ?> lastStatus = Map.of();
    private volatile long peakRss = -1;

    private JsonSocketTarget(DaemonChild daemon, List<LineClient> clients, LineClient control) {
        this.daemon = daemon;
        this.clients = clients;
        this.control = control;
    }

    static JsonSocketTarget open(Path folder, int connections, boolean pi, List<String> javaOptions)
            throws IOException, InterruptedException {
        DaemonChild daemon = DaemonChild.start(folder, pi, javaOptions);
        List<LineClient> clients = new ArrayList<>();
        try {
            Path json = daemon.socket().resolveSibling("json.sock");
            for (int i = 0; i < connections; i++) {
                clients.add(new LineClient(json));
            }
            return new JsonSocketTarget(daemon, clients, new LineClient(json));
        } catch (IOException | RuntimeException e) {
            clients.forEach(LineClient::close);
            daemon.close();
            throw e;
        }
    }

    @Override
    public String label() {
        return "json";
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        return append(0, stream, payload);
    }

    @Override
    public CompletableFuture<?> append(int producer, String stream, byte[] payload) {
        StringBuilder line = new StringBuilder(payload.length * 4 / 3 + 96);
        line.append("{\"op\":\"append\",\"stream\":");
        Json.quote(stream, line);
        line.append(",\"type\":");
        Json.quote(Workload.EVENT_TYPE, line);
        line.append(",\"data_base64\":\"").append(Base64.getEncoder().encodeToString(payload)).append("\"}\n");
        return clients.get(producer % clients.size()).send(line.toString());
    }

    @Override
    public long settle(long timeoutMillis, long stallMillis, PrintStream log, long progressMillis)
            throws IOException, InterruptedException {
        await(control.send("{\"op\":\"status\",\"drain_splitter\":true}\n"));
        return DrainWait.await(() -> {
            Map<?, ?> s = status();
            return new DrainWait.Lag(String.valueOf(s.get("splitter")), ((Number) s.get("splitter_lag_events")).longValue());
        }, timeoutMillis, stallMillis, log, progressMillis, "splitter drain (daemon, json)");
    }

    private Map<?, ?> status() throws IOException {
        try {
            Map<?, ?> s = (Map<?, ?>) Json.parse(await(control.send("{\"op\":\"status\"}\n")));
            lastStatus = s;
            return s;
        } catch (Json.ParseException e) {
            throw new IOException("status line is not JSON", e);
        }
    }

    @Override
    public long childPid() {
        return daemon.pid();
    }

    @Override
    public double childCpuSeconds() {
        return daemon.cpuSeconds();
    }

    @Override
    public long childPeakRssBytes() {
        return peakRss >= 0 ? peakRss : daemon.peakRssBytes();
    }

    @Override
    public LogRolls logRolls() throws IOException {
        Map<?, ?> s = status();
        return new LogRolls(number(s, "segment_rolls"), number(s, "segment_rolls_recycled"));
    }

    @Override
    public BatchStats stats() {
        Map<?, ?> s = lastStatus;
        return new BatchStats(number(s, "batches"), number(s, "events_appended"), number(s, "forces"), 0,
                number(s, "force_p50_micros"), number(s, "force_p99_micros"), "daemon status: last 1024 forces");
    }

    private static long number(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : 0;
    }

    @Override
    public void close() throws IOException {
        try {
            status();
        } catch (IOException | RuntimeException e) {
            // stats stay as last seen
        }
        peakRss = daemon.peakRssBytes();
        clients.forEach(LineClient::close);
        control.close();
        daemon.close();
    }

    private static String await(CompletableFuture<String> f) throws IOException {
        try {
            return f.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("no answer from the daemon within " + CALL_TIMEOUT_SECONDS + " s", e);
        }
    }

    /** One pipelined JSON-lines connection: lines out under a lock, answers matched in order by a reader thread. */
    private static final class LineClient {
        private final SocketChannel channel;
        private final ConcurrentLinkedQueue<CompletableFuture<String>> waiting = new ConcurrentLinkedQueue<>();
        private final Thread reader;

        LineClient(Path socket) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            reader = Thread.ofPlatform().name("bench-json-reader").daemon().start(this::readAnswers);
        }

        CompletableFuture<String> send(String line) {
            CompletableFuture<String> f = new CompletableFuture<>();
            ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            synchronized (this) {
                waiting.add(f);
                try {
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                } catch (IOException e) {
                    f.completeExceptionally(e);
                }
            }
            return f;
        }

        private void readAnswers() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                    StandardCharsets.UTF_8), 64 << 10)) {
                String line;
                while ((line = in.readLine()) != null) {
                    CompletableFuture<String> f = waiting.poll();
                    if (f == null) {
                        break;
                    }
                    if (line.startsWith("{\"error\"")) {
                        f.completeExceptionally(new IOException("refused: " + line));
                    } else {
                        f.complete(line);
                    }
                }
            } catch (IOException e) {
                // closed
            }
            IOException gone = new IOException("the JSON connection ended");
            CompletableFuture<String> f;
            while ((f = waiting.poll()) != null) {
                f.completeExceptionally(gone);
            }
        }

        void close() {
            try {
                channel.close();
                reader.join(5_000);
            } catch (IOException e) {
                // gone anyway
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
