package io.ringstore.writer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ringstore.log.ForwardingStorageIo;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's group commit with blocking clients ({@code Writer#gather}): after a batch of
 * three, an append that arrives alone waits a little for the two that follow it, and all three
 * share one force; with the wait off ({@code group_commit_wait_us = 0}) it is forced alone.
 * Forces are made slow (400 ms) so that the arrivals' timing has wide margins.
 */
class GroupCommitGatherTest {
    private static final long FORCE_MILLIS = 400;

    @TempDir
    Path dir;

    /** The real storage with every main-log force taking {@link #FORCE_MILLIS} more. */
    private static final class SlowForceIo extends ForwardingStorageIo {
        @Override
        public void force(MemorySegment mapping, long offset, long length) throws IOException {
            try {
                Thread.sleep(FORCE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            super.force(mapping, offset, length);
        }
    }

    @Test
    void aSmallBatchWaitsForTheRequestsTheLastBatchesHad() throws Exception {
        assertEquals(1, forcesForThreeArrivingApart(100_000), "with the wait: one force for the three");
    }

    @Test
    void withTheWaitOffTheFirstIsForcedAlone() throws Exception {
        assertEquals(2, forcesForThreeArrivingApart(0), "without it: the first alone, then the other two");
    }

    /**
     * Makes a batch of three (queued while the writer forced another), then appends one and,
     * 40 ms later, two more; returns how many forces those last three took.
     */
    private long forcesForThreeArrivingApart(long gatherMicros) throws Exception {
        StoreConfig config = StoreConfig.defaults(dir.resolve("data-" + gatherMicros)).withIo(new SlowForceIo());
        config = config.withWriter(config.writer().withGatherMicros(gatherMicros));
        try (RingStore store = RingStore.open(config)) {
            CompletableFuture<AppendResult> busy = append(store, "busy");
            Thread.sleep(50); // the writer is in that force now; these three queue behind it
            List<CompletableFuture<AppendResult>> three = List.of(append(store, "a"), append(store, "b"), append(store, "c"));
            busy.join();
            three.forEach(CompletableFuture::join);

            long before = store.writerStats().forces();
            CompletableFuture<AppendResult> x = append(store, "x");
            Thread.sleep(40); // without the wait, the writer forces x meanwhile
            CompletableFuture<AppendResult> y = append(store, "y");
            CompletableFuture<AppendResult> z = append(store, "z");
            x.join();
            y.join();
            z.join();
            return store.writerStats().forces() - before;
        }
    }

    private static CompletableFuture<AppendResult> append(RingStore store, String stream) {
        return store.append(stream, ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {1})));
    }
}
