package io.ringstore.split;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Child JVM for {@link SplitterCrashTest}: appends to many streams from several threads with a
 * splitter that splits small windows often, printing each acknowledged append; runs until killed.
 */
public final class SplitterCrashChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(128 << 10)
                .withPressureGauge(() -> PressureReading.CALM)
                .withSplitter(SplitterOptions.defaults().withWindow(8 << 10, 5).withRetention(0, 256 << 10));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        RingStore store = RingStore.open(config);
        out.println("READY");
        for (int t = 0; t < 3; t++) {
            long threadSeed = seed * 31 + t;
            Thread.ofPlatform().start(() -> {
                Random random = new Random(threadSeed);
                for (long i = 0; ; i++) {
                    String stream = "k" + random.nextInt(40);
                    String payload = "p" + threadSeed + "-" + i;
                    AppendResult r = store.append(stream, ExpectedVersion.ANY,
                            List.of(EventData.of("t", payload.getBytes(StandardCharsets.UTF_8)))).join();
                    synchronized (out) {
                        out.println("ACK " + stream + " " + r.firstVersion() + " " + payload);
                    }
                }
            });
        }
        Thread.currentThread().join();
    }
}
