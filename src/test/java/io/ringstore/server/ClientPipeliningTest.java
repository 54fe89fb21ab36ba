package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One client shared by many sending threads and by answer callbacks that send the next request
 * (on the client's reading thread), while the server writes answers from the writer's batches:
 * each request gets its own answer, in order per stream.
 */
class ClientPipeliningTest {
    @TempDir
    Path dir;

    private static EventData event(String s) {
        return EventData.of("t", s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void manyThreadsAndCallbacksShareOneConnection() throws Exception {
        int threads = 8;
        int perThread = 300;
        int chained = 200;
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            // A chain of appends, each sent from the previous one's callback.
            CountDownLatch chainDone = new CountDownLatch(1);
            AtomicReference<Throwable> chainError = new AtomicReference<>();
            Runnable[] next = new Runnable[1];
            int[] step = {0};
            next[0] = () -> c.append("chain", step[0] == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(step[0] - 1), List.of(event("c" + step[0])))
                    .whenComplete((r, e) -> {
                        if (e != null) {
                            chainError.set(e);
                            chainDone.countDown();
                        } else if (++step[0] == chained) {
                            chainDone.countDown();
                        } else {
                            next[0].run();
                        }
                    });
            next[0].run();
            List<Thread> senders = new ArrayList<>();
            List<List<CompletableFuture<AppendResult>>> results = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
                results.add(fs);
                int thread = k;
                senders.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        fs.add(c.append("t" + thread, ExpectedVersion.ANY, List.of(event(thread + ":" + i))));
                    }
                }));
            }
            for (Thread s : senders) {
                s.join();
            }
            for (int k = 0; k < threads; k++) {
                for (int i = 0; i < perThread; i++) {
                    AppendResult r = results.get(k).get(i).get(20, TimeUnit.SECONDS);
                    assertEquals("t" + k, r.stream());
                    assertEquals(i, r.firstVersion(), "one thread's appends keep their order");
                }
            }
            assertTrue(chainDone.await(20, TimeUnit.SECONDS), "the chain of callbacks finished");
            assertEquals(null, chainError.get());
            assertEquals(chained, step[0]);
        }
    }

    /**
     * Pipelined calls are queued for the client's sending thread; a blocking call that follows
     * them writes the queue itself, its own frame last: the daemon sees them in call order, so
     * the blocking call's expected version (the pipelined ones' last) holds.
     */
    @Test
    void aBlockingCallGoesOutAfterThePipelinedOnesBeforeIt() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            for (int round = 0; round < 50; round++) {
                String stream = "burst-" + round;
                List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    fs.add(c.append(stream, i == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(i - 1),
                            List.of(event(stream + ":" + i))));
                }
                AppendResult last = c.appendAndWait(stream, ExpectedVersion.exactly(19), List.of(event("last")));
                assertEquals(20, last.firstVersion(), "the blocking append came after the 20 before it");
                for (int i = 0; i < 20; i++) {
                    assertEquals(i, fs.get(i).get(20, TimeUnit.SECONDS).firstVersion());
                }
            }
        }
    }

    /** Pipelined calls still queued or unanswered when the daemon goes fail as lost, none hangs. */
    @Test
    void queuedCallsFailWhenTheConnectionIsLost() throws Exception {
        List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
        RingStoreClient c;
        try (TestServer t = TestServer.start(dir)) {
            c = t.client();
            c.appendAndWait("before", ExpectedVersion.ANY, List.of(event("x")));
            Thread sender = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 20_000; i++) {
                    fs.add(c.append("s" + (i % 10), ExpectedVersion.ANY, List.of(event("e" + i))));
                }
            });
            sender.join();
        }
        int answered = 0;
        int lost = 0;
        for (CompletableFuture<AppendResult> f : fs) {
            try {
                f.get(20, TimeUnit.SECONDS);
                answered++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertTrue(e.getCause() instanceof io.ringstore.client.ConnectionLostException
                        || e.getCause() instanceof io.ringstore.error.RingStoreException, e.toString());
                lost++;
            }
        }
        assertEquals(fs.size(), answered + lost, "every call completed");
    }
}
