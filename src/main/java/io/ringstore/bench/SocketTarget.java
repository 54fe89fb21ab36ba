package io.ringstore.bench;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The store as an application sees it: a real daemon child process ({@link DaemonChild}) and
 * one client connection ({@link RingStoreClient}) per producer, each pipelining its appends.
 * Reads go through one more connection of their own. The daemon's batching numbers come from its
 * status; its CPU and peak RSS from /proc.
 */
final class SocketTarget implements AppendTarget, StreamSource {
    private static final long CALL_TIMEOUT_SECONDS = 60;

    private final DaemonChild daemon;
    private final List<RingStoreClient> clients;
    private final RingStoreClient reader;
    private volatile StatusResponse lastStatus = StatusResponse.getDefaultInstance();
    private volatile long peakRss = -1;
    /** The two boards when this is a primary with a standby (the row's label is its ack mode), else null. */
    private final ReplicaPair pair;
    private final String label;

    private SocketTarget(DaemonChild daemon, List<RingStoreClient> clients, RingStoreClient reader, String label) {
        this(daemon, clients, reader, null, label);
    }

    private SocketTarget(DaemonChild daemon, List<RingStoreClient> clients, RingStoreClient reader, ReplicaPair pair,
                         String label) {
        this.daemon = daemon;
        this.clients = clients;
        this.reader = reader;
        this.pair = pair;
        this.label = label;
    }

    /**
     * The primary of two started boards ({@link ReplicaPair}), {@code connections} producer
     * connections to it; closing it stops both boards.
     */
    static SocketTarget openPrimary(ReplicaPair pair, int connections, String label) throws IOException {
        List<RingStoreClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                clients.add(RingStoreClient.connect(pair.primary.socket()));
            }
            SocketTarget t = new SocketTarget(pair.primary, clients, RingStoreClient.connect(pair.primary.socket()), pair,
                    label);
            String mode = BenchOptions.ackModeOf(label);
            String acks = t.status().getAckMode().name();
            if (mode != null && !acks.equals("ACK_MODE_" + mode.toUpperCase(java.util.Locale.ROOT).replace('-', '_'))) {
                t.close();
                throw new IOException("the primary acknowledges in " + acks + ", not " + mode);
            }
            return t;
        } catch (IOException | RuntimeException e) {
            clients.forEach(SocketTarget::closeQuietly);
            pair.closeQuietly();
            throw e;
        }
    }

    /** Starts a daemon in {@code folder} and opens {@code connections} producer connections to it. */
    static SocketTarget open(Path folder, int connections, boolean pi, List<String> javaOptions)
            throws IOException, InterruptedException {
        return open(folder, connections, pi, javaOptions, false);
    }

    /**
     * As {@link #open(Path, int, boolean, List)}; with {@code multi} the row is "socket-multi": the
     * load driver sends each producer's free window as one multi-stream append.
     */
    static SocketTarget open(Path folder, int connections, boolean pi, List<String> javaOptions, boolean multi)
            throws IOException, InterruptedException {
        DaemonChild daemon = DaemonChild.start(folder, pi, javaOptions);
        List<RingStoreClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                clients.add(RingStoreClient.connect(daemon.socket()));
            }
            return new SocketTarget(daemon, clients, RingStoreClient.connect(daemon.socket()),
                    multi ? "socket-multi" : "socket");
        } catch (IOException | RuntimeException e) {
            clients.forEach(SocketTarget::closeQuietly);
            daemon.close();
            throw e;
        }
    }

    long daemonPid() {
        return daemon.pid();
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        return append(0, stream, payload);
    }

    @Override
    public CompletableFuture<?> append(int producer, String stream, byte[] payload) {
        return clients.get(producer % clients.size()).append(stream, ExpectedVersion.ANY,
                List.of(EventData.of(Workload.EVENT_TYPE, payload)));
    }

    /** As an application rebuilding an aggregate would: the client's whole-stream read (pipelined pages). */
    @Override
    public boolean appendsInBatches() {
        return label.equals("socket-multi");
    }

    @Override
    public List<? extends CompletableFuture<?>> appendBatch(int producer, List<String> streams, byte[] payload) {
        List<io.ringstore.writer.StreamAppend> entries = new ArrayList<>(streams.size());
        for (String s : streams) {
            entries.add(new io.ringstore.writer.StreamAppend(s, ExpectedVersion.ANY,
                    List.of(EventData.of(Workload.EVENT_TYPE, payload))));
        }
        return clients.get(producer % clients.size()).appendAll(entries);
    }

    @Override
    public void appendAndWait(int producer, String stream, byte[] payload) {
        clients.get(producer % clients.size()).appendAndWait(stream, ExpectedVersion.ANY,
                List.of(EventData.of(Workload.EVENT_TYPE, payload)));
    }

    @Override
    public int readWhole(String stream) throws IOException {
        int[] n = new int[1];
        // Blocking, as a caller rebuilding an aggregate reads: the calling thread reads its answers.
        reader.readStreamToEndAndWait(stream, 0, e -> StreamSource.checkVersion(stream, n[0]++, e.version()));
        return n[0];
    }

    /** Polls the daemon's status until its splitter lag is 0. */
    @Override
    public long settle(long timeoutMillis, long stallMillis, PrintStream log, long progressMillis)
            throws IOException, InterruptedException {
        // Streams short of their ripe size would wait a window (30 s) for their file.
        await(reader.drainSplitter());
        return DrainWait.await(() -> {
            StatusResponse s = status();
            return new DrainWait.Lag(s.getSplitterState(), s.getSplitterLagEvents());
        }, timeoutMillis, stallMillis, log, progressMillis, "splitter drain (daemon)");
    }

    private StatusResponse status() throws IOException {
        StatusResponse s = await(reader.status());
        lastStatus = s;
        return s;
    }

    @Override
    public long childPid() {
        return pair != null ? -1 : daemon.pid();
    }

    @Override
    public double childCpuSeconds() {
        return pair != null ? pair.cpuSeconds() : daemon.cpuSeconds();
    }

    /** The daemon's VmHWM, read just before it was stopped (while running: now). */
    @Override
    public long childPeakRssBytes() {
        return peakRss >= 0 ? peakRss : daemon.peakRssBytes();
    }

    /** From a status asked now; {@link #stats()} then answers from the same status. */
    @Override
    public LogRolls logRolls() throws IOException {
        StatusResponse s = status();
        return new LogRolls(s.getSegmentRolls(), s.getSegmentRollsRecycled());
    }

    /** From the daemon's status as of the last status call (close and {@link #logRolls()} take one). */
    @Override
    public BatchStats stats() {
        StatusResponse s = lastStatus;
        return new BatchStats(s.getBatches(), s.getEventsAppended(), s.getForces(), 0, s.getForceP50Micros(),
                s.getForceP99Micros(), "daemon status: last 1024 forces");
    }

    /** Takes the daemon's last status and peak RSS, closes the connections, stops the daemon (exit 0). */
    @Override
    public void close() throws IOException {
        try {
            status();
        } catch (IOException | RuntimeException e) {
            // stats stay as last seen; the daemon's exit code below tells whether it was well
        }
        peakRss = daemon.peakRssBytes();
        clients.forEach(SocketTarget::closeQuietly);
        closeQuietly(reader);
        if (pair != null) {
            pair.close();
        } else {
            daemon.close();
        }
    }

    private static <T> T await(CompletableFuture<T> f) throws IOException {
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

    private static void closeQuietly(RingStoreClient c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            // A connection that failed to close is gone with the daemon anyway.
        }
    }
}
