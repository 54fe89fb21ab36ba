package io.ringstore.bench;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.writer.WriterStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The store under test, opened with its default configuration (durability sync, splitter on) in
 * a fresh folder, or with a given one (the splitter benchmark turns the splitter off or holds it).
 */
final class StoreTarget implements AppendTarget, StreamSource {
    /** Events per read page: what a client asks for at once. */
    static final int READ_PAGE = 1_000;

    private final RingStore store;

    private StoreTarget(RingStore store) {
        this.store = store;
    }

    static StoreTarget open(Path dataDir) throws IOException {
        return open(StoreConfig.defaults(dataDir));
    }

    static StoreTarget open(StoreConfig config) throws IOException {
        return new StoreTarget(RingStore.open(config));
    }

    /** The open store, for splitter status and stream reads. */
    RingStore store() {
        return store;
    }

    @Override
    public String label() {
        return "store";
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        return store.append(stream, ExpectedVersion.ANY, List.of(EventData.of(Workload.EVENT_TYPE, payload)));
    }

    @Override
    public int readWhole(String stream) {
        int n = 0;
        long from = 0;
        while (true) {
            StreamSlice slice = store.readStream(stream, from, READ_PAGE, Direction.FORWARD);
            for (LogRecord r : slice.events()) {
                StreamSource.checkVersion(stream, n++, r.getVersion());
            }
            if (slice.endOfStream() || slice.events().isEmpty()) {
                return n;
            }
            from = slice.nextVersion();
        }
    }

    /** Waits for the splitter to move every event to its stream file (lag 0). */
    @Override
    public long settle(long timeoutMillis, long stallMillis, PrintStream log, long progressMillis)
            throws IOException, InterruptedException {
        // Streams short of their ripe size would wait a window (30 s) for their file.
        store.splitter().drain();
        return DrainWait.await(() -> {
            var s = store.splitterStatus();
            return new DrainWait.Lag(s.state().name().toLowerCase(java.util.Locale.ROOT), s.lagEvents());
        }, timeoutMillis, stallMillis, log, progressMillis, "splitter drain");
    }

    @Override
    public BatchStats stats() {
        WriterStats s = store.writerStats();
        return new BatchStats(s.batches(), s.events(), s.forces(), s.payloadBytes(), s.forceP50Micros(),
                s.forceP99Micros(), "writerStats: last 1024 forces");
    }

    @Override
    public LogRolls logRolls() {
        var s = store.status();
        return new LogRolls(s.rolls(), s.rollsRecycled());
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
