package io.ringstore.retention;

import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterOptions;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.nio.file.Path;

/**
 * Child JVM of {@link RewriteCrashTest}: opens the store, sets a count limit on every stream
 * (prints LIMITS), and prints REWRITE before each stream-file rewrite the compactor starts,
 * then waits to be killed.
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
        RingStore store = RingStore.open(config(dir));
        store.compactor().onRewrite(stream -> {
            System.out.println("REWRITE " + stream);
            System.out.flush();
        });
        for (int i = 0; i < streams; i++) {
            store.setLimits("s-" + i, new StreamLimits(keep, StreamLimits.UNSET, StreamLimits.UNSET, false)).join();
        }
        System.out.println("LIMITS");
        System.out.flush();
        Thread.sleep(60_000); // the parent kills us long before
        System.out.println("DONE");
        System.exit(3);
    }
}
