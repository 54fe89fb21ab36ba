package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answers of one writer batch go out per connection at the batch's end ({@link ReplyBatch}):
 * many connections' answers in one batch each reach their own client, interleaved with answers
 * sent from other threads; and a client that stops reading holds up neither the writer nor
 * anyone else, and still gets every answer once it reads again.
 */
class ReplyBatchTest {
    @TempDir
    Path dir;

    private static EventData event(String s) {
        return EventData.of("t", s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void oneBatchAnswersManyConnectionsEachItsOwn() throws Exception {
        int clients = 8;
        int perClient = 40;
        try (TestServer t = TestServer.start(dir)) {
            List<RingStoreClient> cs = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                cs.add(t.client());
            }
            var atGate = t.io.hold();
            CompletableFuture<AppendResult> first = cs.getFirst().append("warm", ExpectedVersion.ANY, List.of(event("w")));
            assertTrue(atGate.await(10, TimeUnit.SECONDS), "the first batch reached the force");
            // Everything below queues behind the held force and becomes the next batch.
            List<List<CompletableFuture<AppendResult>>> appends = new ArrayList<>();
            List<CompletableFuture<Void>> pings = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
                for (int i = 0; i < perClient; i++) {
                    String stream = i % 4 == 3 ? "shared" : "c" + k + "-" + (i % 4);
                    fs.add(cs.get(k).append(stream, ExpectedVersion.ANY, List.of(event(k + ":" + i))));
                    if (i % 5 == 0) {
                        pings.add(cs.get(k).ping()); // answered at once, from the reading thread
                    }
                }
                appends.add(fs);
            }
            for (var p : pings) {
                p.get(10, TimeUnit.SECONDS);
            }
            long queued = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (queued < (long) clients * perClient && System.nanoTime() < deadline) {
                queued = t.store.status().writer().queueDepth();
                Thread.onSpinWait();
            }
            assertEquals((long) clients * perClient, queued, "every append waits in the writer's queue");
            t.io.open();
            assertEquals(0, first.get(10, TimeUnit.SECONDS).firstVersion());
            Set<Long> sharedVersions = new HashSet<>();
            for (int k = 0; k < clients; k++) {
                Map<String, Long> next = new HashMap<>();
                for (int i = 0; i < perClient; i++) {
                    AppendResult r = appends.get(k).get(i).get(10, TimeUnit.SECONDS);
                    String stream = i % 4 == 3 ? "shared" : "c" + k + "-" + (i % 4);
                    assertEquals(stream, r.stream(), "client " + k + " append " + i + " got its own answer");
                    if (stream.equals("shared")) {
                        assertTrue(sharedVersions.add(r.firstVersion()), "each shared version answered once");
                    } else {
                        long expected = next.merge(stream, 1L, Long::sum) - 1;
                        assertEquals(expected, r.firstVersion(), "one connection's appends keep their order");
                    }
                }
            }
            assertEquals((long) clients * perClient / 4, sharedVersions.size());
        }
    }

    @Test
    void aClientThatStopsReadingHoldsUpNobody() throws Exception {
        int inFlight = 4;
        try (TestServer t = TestServer.start(dir, c -> c.withMaxInFlight(inFlight))) {
            RingStoreClient other = t.client();
            byte[] big = new byte[4096];
            List<CompletableFuture<AppendResult>> fill = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                fill.add(other.append("big", ExpectedVersion.ANY, List.of(EventData.of("t", big))));
            }
            CompletableFuture.allOf(fill.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
            int requests = 200;
            ByteString data = ByteString.copyFrom(new byte[8192]);
            try (RawConnection raw = new RawConnection(t.socket)) {
                // Pages of about a MiB (reads) between appends of 8 KiB: far more both ways than
                // the socket buffers hold, so the server must stop sending, then stop reading,
                // while appends of this connection complete on the writer thread.
                Thread sender = Thread.ofPlatform().name("test-raw-sender").start(() -> {
                    try {
                        for (int i = 1; i <= requests; i++) {
                            Request.Builder r = Request.newBuilder().setId(i);
                            if (i % 2 == 0) {
                                r.setReadAll(ReadAllRequest.newBuilder().setFromPosition(0));
                            } else {
                                r.setAppend(AppendRequest.newBuilder().setStream("stalled")
                                        .addEvents(NewEvent.newBuilder().setType("t").setData(data)));
                            }
                            raw.send(r.build());
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                // The writer and other connections go on meanwhile.
                for (int i = 0; i < 200; i++) {
                    assertEquals(i, other.append("free", ExpectedVersion.ANY, List.of(event("f" + i)))
                            .get(10, TimeUnit.SECONDS).firstVersion());
                }
                assertTrue(sender.isAlive(), "the server stopped reading the client that does not read");
                assertTrue(t.server.requestBytesInUse() <= 2L * t.server.config().maxFrameBytes(),
                        "a stalled connection holds at most its share of request bytes");
                // Reading again, the client gets every answer, appends in their order.
                Set<Long> answered = new HashSet<>();
                long nextVersion = 0;
                for (int i = 0; i < requests; i++) {
                    Response r = raw.next();
                    assertNotNull(r, "answer " + i);
                    assertTrue(answered.add(r.getId()), "one answer per request: id=" + r.getId());
                    if (r.getId() % 2 == 1) {
                        assertEquals(Response.ResultCase.APPEND, r.getResultCase(), r.toString());
                        assertEquals(nextVersion++, r.getAppend().getFirstVersion());
                    } else {
                        assertEquals(Response.ResultCase.READ_ALL, r.getResultCase());
                    }
                }
                sender.join(10_000);
                assertTrue(!sender.isAlive(), "every request was read once the client read again");
            }
            assertTrue(t.server.awaitState((conns, subs) -> conns == 1, 10_000));
            assertEquals(0, t.server.requestBytesInUse(), "every request's bytes were given back");
        }
    }

    @Test
    void closingTheServerEndsAConnectionStuckOnAClientThatDoesNotRead() throws Exception {
        TestServer t = TestServer.start(dir, c -> c.withMaxInFlight(2));
        RawConnection raw = null;
        try {
            RingStoreClient c = t.client();
            byte[] big = new byte[4096];
            for (int i = 0; i < 300; i++) {
                c.append("big", ExpectedVersion.ANY, List.of(EventData.of("t", big)));
            }
            c.append("big", ExpectedVersion.ANY, List.of(event("last"))).get(20, TimeUnit.SECONDS);
            raw = new RawConnection(t.socket);
            // Two pages of about a MiB: more than the socket buffer, so the rest waits in the poller.
            raw.send(Request.newBuilder().setId(1).setReadAll(ReadAllRequest.newBuilder().setFromPosition(0)).build(),
                    Request.newBuilder().setId(2).setReadAll(ReadAllRequest.newBuilder().setFromPosition(0)).build());
            // One page read: the server is writing the other, which the socket does not take whole.
            assertEquals(Response.ResultCase.READ_ALL, raw.next().getResultCase());
        } finally {
            long start = System.nanoTime();
            t.close(); // answers what it can, then closes what waits on the client after its drain time
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 20_000, "the server closed in " + millis + " ms");
            assertEquals(0, t.server.connectionCount(), "every connection ended");
            if (raw != null) {
                raw.close();
            }
        }
    }
}
