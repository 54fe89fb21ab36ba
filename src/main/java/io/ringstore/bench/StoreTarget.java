package io.ringstore.bench;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.writer.WriterStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The store under test, opened with its default configuration (durability sync) in a fresh
 * folder, or with a given one (the splitter benchmark turns the splitter off or holds it).
 */
final class StoreTarget implements AppendTarget {
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
    public BatchStats stats() {
        WriterStats s = store.writerStats();
        return new BatchStats(s.batches(), s.events(), s.forces(), s.payloadBytes(), s.forceP50Micros(),
                s.forceP99Micros(), "writerStats: last 1024 forces");
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
