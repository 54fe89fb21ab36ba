package io.ringstore.memory;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Run in a child JVM with a small heap: writes one event to each of N streams, closes, reopens
 * (loading the stream-table checkpoint), and prints the heap in use after a GC.
 */
public final class SmallHeapChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int streams = Integer.parseInt(args[1]);
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(8 << 20);
        byte[] payload = new byte[64];
        try (RingStore store = RingStore.open(config)) {
            List<CompletableFuture<?>> inFlight = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                inFlight.add(store.append("sensor-" + i, ExpectedVersion.NO_STREAM,
                        List.of(new EventData(null, "reading", payload, null))));
                if (inFlight.size() == 256) {
                    inFlight.forEach(CompletableFuture::join);
                    inFlight.clear();
                }
            }
            inFlight.forEach(CompletableFuture::join);
            // Every stream is below its ripe size and younger than the window: all of them are
            // in the tail index now, the most it holds for this many streams.
            System.gc();
            System.out.println("HEAP_USED_UNSPLIT " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
                    + " unsplit=" + store.splitterStatus().lagEvents());
            store.splitter().drain();
            // Steady state: let the splitter catch up (bounded wait), so the reopened store
            // carries the table, not a backlog (the backlog is bounded by the splitter's lag limit).
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (store.splitterStatus().lagEvents() > 0 && System.nanoTime() < deadline) {
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 50);
            }
            System.out.println("LAG_AT_CLOSE " + store.splitterStatus().lagEvents());
        }
        try (RingStore store = RingStore.open(config)) {
            store.append("sensor-0", ExpectedVersion.exactly(0), List.of(new EventData(null, "reading", payload, null))).join();
            System.gc();
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            System.out.println("HEAP_USED " + used);
        }
    }
}
