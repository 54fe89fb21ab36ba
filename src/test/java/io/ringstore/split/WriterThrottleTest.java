package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.config;
import static io.ringstore.split.SplitterTestSupport.stateLatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer faster than the splitter (here: the splitter held to a small duty cycle by
 * pressure) is held to the splitter's pace once the lag passes its bound, so the lag stays
 * bounded; nothing is refused or lost meanwhile.
 */
class WriterThrottleTest {
    private static final long BOUND = 1L << 20;
    private static final int STREAMS = 50;
    private static final long WRITE_NANOS = TimeUnit.SECONDS.toNanos(6);

    @TempDir
    Path dir;

    @Test
    void theLagStaysNearItsBoundWhenTheWriterOutrunsTheSplitter() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        StoreConfig config = config(dir, gauge);
        config = config.withSplitter(config.splitter().withMaxLag(BOUND, 600).withOverLimitDuty(0.05));
        try (RingStore store = RingStore.open(config)) {
            CountDownLatch paused = stateLatch(store, SplitterState.PAUSED_FOR_PRESSURE);
            gauge.high();
            store.splitter().wake();
            assertTrue(paused.await(10, TimeUnit.SECONDS), "splitter did not pause");

            AtomicLong written = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long[] versions = new long[STREAMS];
            Semaphore window = new Semaphore(64);
            long maxLag = 0;
            long end = System.nanoTime() + WRITE_NANOS;
            byte[] payload = new byte[300];
            int i = 0;
            while (System.nanoTime() < end) {
                while (!window.tryAcquire(1, TimeUnit.MILLISECONDS)) {
                    maxLag = Math.max(maxLag, store.splitterStatus().lagBytes());
                }
                String stream = "s" + (i++ % STREAMS);
                store.append(stream, ExpectedVersion.ANY, List.of(EventData.of("e", payload)))
                        .whenComplete((r, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            } else {
                                written.incrementAndGet();
                            }
                            window.release();
                        });
                if ((i & 63) == 0) {
                    maxLag = Math.max(maxLag, store.splitterStatus().lagBytes());
                }
            }
            assertTrue(window.tryAcquire(64, 30, TimeUnit.SECONDS), "appends did not complete");
            assertEquals(null, failure.get(), "an append failed");
            long held = store.writerStats().throttledMillis();
            long bytes = store.writerStats().payloadBytes();
            System.out.printf("throttle: wrote %d events (%d bytes) in %d s, writer held %d ms, max lag %d bytes (bound %d)%n",
                    written.get(), bytes, TimeUnit.NANOSECONDS.toSeconds(WRITE_NANOS), held, maxLag, BOUND);
            assertTrue(held > 0, "the writer was never held although the lag passed its bound");
            // Unheld, the writer appends several MB/s here while the splitter moves a twentieth of
            // its time: the lag would end tens of MB past the bound.
            assertTrue(maxLag <= 8 * BOUND, "lag " + maxLag + " ran far past its bound " + BOUND);
            // Nothing was lost: every stream reads back whole (from its file and the log's tail).
            long total = 0;
            for (int s = 0; s < STREAMS; s++) {
                var events = store.readStream("s" + s, 0, 1_000_000, Direction.FORWARD).events();
                for (int v = 0; v < events.size(); v++) {
                    assertEquals(v, events.get(v).getVersion());
                }
                total += events.size();
            }
            assertEquals(written.get(), total);

            // Pressure gone: the splitter catches up and the writer is released.
            gauge.calm();
            store.splitter().wake();
            SplitterTestSupport.await(store, () -> store.splitterStatus().lagBytes() < BOUND / 2, "catch up");
            SplitterTestSupport.await(store, () -> store.splitter().throttle().bytesPerSecond() == 0, "writer released");
        }
    }
}
