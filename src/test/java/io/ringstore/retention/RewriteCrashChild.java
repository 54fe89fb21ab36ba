package io.ringstore.retention;

import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterOptions;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Child JVM of {@link RewriteCrashTest}: opens the store, sets a count limit on every stream
 * (prints LIMITS), and prints {@code REWRITE <stream> <files rewritten so far>} before each
 * stream-file rewrite the compactor starts, then waits to be killed.
 *
 * <p>With {@code holdAt > 0} the crash point is fixed, not left to when the kill lands: each
 * rewrite before the {@code holdAt}-th lets the compactor's slice run out, so its batch commits
 * that one file before the next starts; at the {@code holdAt}-th the splitter thread prints
 * {@code HOLD <stream> <files rewritten so far>} and stops there (prepared, not committed) until
 * the kill.
 */
public final class RewriteCrashChild {
    static StoreConfig config(Path dir) {
        return StoreConfig.defaults(dir).withSegmentSize(1 << 20).withPressureGauge(() -> PressureReading.CALM)
                .withSplitter(SplitterOptions.defaults().withWindow(256 << 10, 20))
                .withRetention(RetentionOptions.defaults().withCompactInterval(1));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int streams = Integer.parseInt(args[1]);
        long keep = Long.parseLong(args[2]);
        int holdAt = Integer.parseInt(args[3]);
        RingStore store = RingStore.open(config(dir));
        int[] seen = {0};
        store.compactor().onRewrite(stream -> {
            seen[0]++;
            long committed = store.compactor().stats().filesRewritten();
            boolean hold = seen[0] == holdAt;
            System.out.println((hold ? "HOLD " : "REWRITE ") + stream + " " + committed);
            System.out.flush();
            try {
                if (hold) {
                    new CountDownLatch(1).await(); // until killed
                } else if (holdAt > 0) {
                    // Not a wait for another thread: time must pass on this one for the slice's
                    // deadline to end the batch after this file.
                    Thread.sleep(StreamCompactor.SLICE_MILLIS + 10);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // No rewrite starts before every limit is in the log: a kill then would leave streams
        // with no limit at all, and the count of rewrites before the hold would be off.
        store.compactor().setPaused(true);
        for (int i = 0; i < streams; i++) {
            store.setLimits("s-" + i, new StreamLimits(keep, StreamLimits.UNSET, StreamLimits.UNSET, false)).join();
        }
        System.out.println("LIMITS");
        System.out.flush();
        store.compactor().setPaused(false);
        Thread.sleep(60_000); // the parent kills us long before
        System.out.println("DONE");
        System.exit(3);
    }
}
