package io.ringstore.split;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

final class SplitterTestSupport {
    private SplitterTestSupport() {}

    static StoreConfig config(Path dir, PressureGauge gauge) {
        return StoreConfig.defaults(dir).withSegmentSize(256 << 10).withPressureGauge(gauge)
                .withSplitter(SplitterOptions.defaults().withWindow(16 << 10, 20));
    }

    static EventData event(String stream, long version) {
        return EventData.of("t", (stream + "#" + version).getBytes(StandardCharsets.UTF_8));
    }

    static void append(RingStore store, String stream, long version) {
        ExpectedVersion expected = version == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(version - 1);
        store.append(stream, expected, List.of(event(stream, version))).join();
    }

    /** Waits (on commits, bounded) until {@code condition} holds. */
    static void await(RingStore store, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; splitter " + store.splitterStatus());
            }
            store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
        }
    }

    /** A latch released when the splitter enters {@code state}. */
    static CountDownLatch stateLatch(RingStore store, SplitterState state) {
        CountDownLatch latch = new CountDownLatch(1);
        store.splitter().onStateChange(s -> {
            if (s == state) {
                latch.countDown();
            }
        });
        if (store.splitterStatus().state() == state) {
            latch.countDown();
        }
        return latch;
    }
}
