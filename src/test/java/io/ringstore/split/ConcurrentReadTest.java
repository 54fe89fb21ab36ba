package io.ringstore.split;

import static io.ringstore.split.SplitterTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrentReadTest {
    @TempDir
    Path dir;

    @Test
    void readsUnderConcurrentWritesAreOrderedPrefixesAndSeeTheirOwnWrites() throws Exception {
        ControlledGauge gauge = new ControlledGauge();
        int writers = 4;
        int streams = 12;
        int perWriter = 600;
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger checks = new AtomicInteger();
        try (RingStore store = RingStore.open(config(dir, gauge))) {
            List<Thread> threads = new ArrayList<>();
            CountDownLatch writersDone = new CountDownLatch(writers);
            for (int w = 0; w < writers; w++) {
                int id = w;
                threads.add(Thread.ofPlatform().start(() -> {
                    Random random = new Random(1000 + id);
                    try {
                        for (int i = 0; i < perWriter; i++) {
                            String stream = "c" + random.nextInt(streams);
                            String payload = "w" + id + "-" + i;
                            AppendResult r = store.append(stream, ExpectedVersion.ANY,
                                    List.of(EventData.of("t", payload.getBytes(StandardCharsets.UTF_8)))).join();
                            // Read-your-writes: a read started after the ack sees the event.
                            StreamSlice s = store.readStream(stream, r.firstVersion(), 1, Direction.FORWARD);
                            if (s.events().isEmpty() || !s.events().getFirst().getData().toStringUtf8().equals(payload)) {
                                failures.add("writer " + id + " did not read its own write " + payload + " at " + r.firstVersion());
                            }
                            if (i % 150 == 0) {
                                // Flip the pressure now and then so reads cross pauses and catch-ups.
                                if (random.nextBoolean()) {
                                    gauge.high();
                                } else {
                                    gauge.calm();
                                }
                                store.splitter().wake();
                            }
                        }
                    } catch (RuntimeException e) {
                        failures.add("writer " + id + ": " + e);
                    } finally {
                        writersDone.countDown();
                    }
                }));
            }
            for (int r = 0; r < 3; r++) {
                int id = r;
                threads.add(Thread.ofPlatform().start(() -> {
                    Random random = new Random(2000 + id);
                    while (!done.get()) {
                        String stream = "c" + random.nextInt(streams);
                        try {
                            StreamSlice s = store.readStream(stream, 0, 100_000, Direction.FORWARD);
                            List<LogRecord> ev = s.events();
                            for (int i = 0; i < ev.size(); i++) {
                                if (ev.get(i).getVersion() != i || !ev.get(i).getStream().equals(stream)) {
                                    failures.add("reader saw version " + ev.get(i).getVersion() + " at index " + i);
                                    break;
                                }
                            }
                            checks.incrementAndGet();
                        } catch (io.ringstore.error.RingStoreException e) {
                            if (e.code() != io.ringstore.error.ErrorCode.STREAM_NOT_FOUND) {
                                failures.add("reader: " + e);
                            }
                        }
                    }
                }));
            }
            assertTrue(writersDone.await(120, TimeUnit.SECONDS), "writers did not finish");
            done.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertTrue(failures.isEmpty(), String.join("\n", failures.stream().limit(10).toList()));
            assertTrue(checks.get() > 10, "readers ran " + checks.get() + " times");
            gauge.calm();
            store.splitter().wake();
            SplitterTestSupport.await(store, () -> store.splitterStatus().lagEvents() == 0, "final split");
            int total = 0;
            for (int s = 0; s < streams; s++) {
                total += store.readStream("c" + s, 0, 100_000, Direction.FORWARD).events().size();
            }
            assertEquals(writers * perWriter, total);
        }
    }
}
