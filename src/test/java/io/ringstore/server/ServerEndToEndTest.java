package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.protocol.v1.AppendRequest;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingRequest;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusRequest;
import io.ringstore.read.Direction;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over a real Unix socket: operations, pipelining, races, errors, the socket file. */
class ServerEndToEndTest {
    @TempDir
    Path dir;

    private static EventData event(String type, String json) {
        return EventData.of(type, json.getBytes(StandardCharsets.UTF_8));
    }

    private static RingStoreException failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return assertInstanceOf(RingStoreException.class, e.getCause());
    }

    @Test
    void appendReadAndSubscribeOverTheSocket() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            byte[] id = new byte[16];
            id[15] = 7;
            byte[] id2 = new byte[16];
            id2[15] = 8;
            List<EventData> two = List.of(
                    new EventData(id, "reading", "{\"c\":21.5}".getBytes(StandardCharsets.UTF_8), "m".getBytes(StandardCharsets.UTF_8)),
                    new EventData(id2, "reading", "{\"c\":22}".getBytes(StandardCharsets.UTF_8), null));
            AppendResult a = c.append("sensor-1", ExpectedVersion.NO_STREAM, two).get(10, TimeUnit.SECONDS);
            assertEquals(0, a.firstVersion());
            assertEquals(1, a.lastVersion());
            assertFalse(a.replayed());
            assertTrue(a.lastPosition() > a.firstPosition());
            AppendResult b = c.append("sensor-2", ExpectedVersion.ANY, List.of(event("reading", "1"))).join();

            StreamPage page = c.readStream("sensor-1", 0, 10, Direction.FORWARD).join();
            assertEquals(2, page.events().size());
            assertTrue(page.endOfStream());
            RecordedEvent first = page.events().getFirst();
            assertEquals("sensor-1", first.stream());
            assertEquals(0, first.version());
            assertEquals(a.firstPosition(), first.position());
            assertArrayEquals(id, first.eventId());
            assertEquals("{\"c\":21.5}", new String(first.data(), StandardCharsets.UTF_8));
            assertEquals("m", new String(first.metadata(), StandardCharsets.UTF_8));
            assertTrue(first.timestampMicros() > 0);

            StreamPage back = c.readStream("sensor-1", -1, 1, Direction.BACKWARD).join();
            assertEquals(1, back.events().getFirst().version());
            assertEquals(0, back.nextVersion());

            AllPage all = c.readAll(0, 100).join();
            assertEquals(List.of(a.firstPosition(), a.lastPosition(), b.firstPosition()),
                    all.events().stream().map(RecordedEvent::position).toList());
            assertTrue(all.end());

            // A retried append with the same event ids is applied once and answered as before.
            AppendResult again = c.append("sensor-1", ExpectedVersion.NO_STREAM, two).join();
            assertTrue(again.replayed());
            assertEquals(a.firstPosition(), again.firstPosition());
            assertEquals(ErrorCode.STREAM_NOT_FOUND, failure(c.readStream("nope", 0, 10, Direction.FORWARD)).code());

            List<RecordedEvent> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            CompletableFuture<Long> caughtUp = new CompletableFuture<>();
            java.util.concurrent.CountDownLatch three = new java.util.concurrent.CountDownLatch(3);
            try (var sub = c.subscribe("sensor-1", io.ringstore.client.SubscribeFrom.START, new io.ringstore.client.SubscriptionListener() {
                @Override
                public void onEvent(RecordedEvent e) {
                    got.add(e);
                    three.countDown();
                }

                @Override
                public void onCaughtUp(long position) {
                    caughtUp.complete(position);
                }
            })) {
                caughtUp.get(10, TimeUnit.SECONDS);
                assertEquals(2, got.size(), "caught up with the two stored events");
                c.append("sensor-1", ExpectedVersion.exactly(1), List.of(event("reading", "5"))).join();
                assertTrue(three.await(10, TimeUnit.SECONDS), "got " + got);
                sub.close();
                assertNull(sub.ended().get(10, TimeUnit.SECONDS));
            }
            assertEquals(List.of(0L, 1L, 2L), got.stream().map(RecordedEvent::version).toList());
        }
    }

    @Test
    void aDrainRequestMovesEventsBeforeTheirWindow() throws Exception {
        // The default window is 30 s: without the drain, a lone event waits that long in the log.
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            c.append("lone", ExpectedVersion.NO_STREAM, List.of(event("t", "0"))).join();
            assertEquals(1, c.status().get(10, TimeUnit.SECONDS).getSplitterLagEvents());
            c.drainSplitter().get(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (c.status().get(10, TimeUnit.SECONDS).getSplitterLagEvents() > 0) {
                assertTrue(System.nanoTime() < deadline, "the drain did not move the event within 10 s");
                Thread.sleep(20);
            }
            assertEquals(1, c.readStream("lone", 0, 10, Direction.FORWARD).get(10, TimeUnit.SECONDS).events().size());
        }
    }

    @Test
    void pipelinedAnswersComeBackOutOfOrderMatchedByIds() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            t.client().append("warm", ExpectedVersion.ANY, List.of(event("t", "0"))).join();
            var atGate = t.io.hold();
            raw.send(Request.newBuilder().setId(1).setAppend(AppendRequest.newBuilder().setStream("p")
                            .addEvents(NewEvent.newBuilder().setType("t").setData(ByteString.copyFromUtf8("x")))).build(),
                    Request.newBuilder().setId(2).setPing(PingRequest.newBuilder().setPayload(ByteString.copyFromUtf8("hi"))).build(),
                    Request.newBuilder().setId(3).setStatus(StatusRequest.getDefaultInstance()).build(),
                    Request.newBuilder().setId(4).setReadAll(ReadAllRequest.newBuilder().setFromPosition(0)).build());
            assertTrue(atGate.await(10, TimeUnit.SECONDS), "the append never reached the force");
            Set<Long> early = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                Response r = raw.next();
                assertNotNull(r);
                early.add(r.getId());
                if (r.getId() == 2) {
                    assertEquals("hi", r.getPing().getPayload().toStringUtf8());
                }
                if (r.getId() == 4) {
                    assertEquals(1, r.getReadAll().getEventsCount(), "the held append is not visible yet");
                }
            }
            assertEquals(Set.of(2L, 3L, 4L), early, "answers behind the held append came first");
            t.io.open();
            Response last = raw.next();
            assertEquals(1, last.getId());
            assertEquals(0, last.getAppend().getFirstVersion());
        }
    }

    @Test
    void manyPipelinedAppendsOnOneConnectionKeepTheirOrder() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c.withMaxInFlight(8))) {
            RingStoreClient c = t.client();
            int n = 400;
            List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
            List<CompletableFuture<StreamPage>> reads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(c.append("s" + (i % 4), ExpectedVersion.ANY, List.of(event("t", Integer.toString(i)))));
                if (i % 50 == 49) {
                    reads.add(c.readStream("s0", 0, 1, Direction.FORWARD));
                }
            }
            for (int i = 0; i < n; i++) {
                AppendResult r = fs.get(i).get(20, TimeUnit.SECONDS);
                assertEquals(i / 4, r.firstVersion(), "append " + i + " to s" + (i % 4));
            }
            for (var r : reads) {
                assertEquals("0", new String(r.join().events().getFirst().data(), StandardCharsets.UTF_8));
            }
            // Bytes are given back after each answer is written; once the connection is gone, all of them.
            c.close();
            assertTrue(t.server.awaitState((conns, subs) -> conns == 0, 10_000));
            assertEquals(0, t.server.requestBytesInUse(), "every request's bytes were given back");
        }
    }

    @Test
    void aFullWriterQueueStopsReadingFromThatProducerOnly() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c, s -> s.withWriter(s.writer().withQueueCapacity(2)))) {
            RingStoreClient producer = t.client();
            RingStoreClient other = t.client();
            var atGate = t.io.hold();
            List<CompletableFuture<AppendResult>> fs = new ArrayList<>();
            fs.add(producer.append("p", ExpectedVersion.ANY, List.of(event("t", "0"))));
            assertTrue(atGate.await(10, TimeUnit.SECONDS), "the writer holds one batch at the force");
            for (int i = 1; i < 10; i++) {
                fs.add(producer.append("p", ExpectedVersion.ANY, List.of(event("t", Integer.toString(i)))));
            }
            // The producer's connection is blocked on the full queue: its ping waits behind it...
            CompletableFuture<Void> blockedPing = producer.ping();
            // ...while other connections are still served (and see the queue full, not growing).
            int depth = 0;
            for (int i = 0; i < 10_000 && depth < 2; i++) {
                depth = other.status().get(10, TimeUnit.SECONDS).getQueueDepth();
            }
            assertEquals(2, depth, "the writer queue filled up to its capacity");
            assertEquals(2, other.status().get(10, TimeUnit.SECONDS).getQueueDepth(), "and stays there");
            assertFalse(blockedPing.isDone(), "the server stopped reading the producer");
            t.io.open();
            for (int i = 0; i < fs.size(); i++) {
                assertEquals(i, fs.get(i).get(10, TimeUnit.SECONDS).firstVersion());
            }
            blockedPing.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void twoClientsRacingOnOneStreamNeverBothWin() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient a = t.client();
            RingStoreClient b = t.client();
            int rounds = 150;
            CyclicBarrier barrier = new CyclicBarrier(2);
            List<long[]> wins = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Long> conflictsSeen = java.util.Collections.synchronizedList(new ArrayList<>());
            Runnable racer = () -> {
                RingStoreClient c = Thread.currentThread().getName().equals("a") ? a : b;
                try {
                    for (int round = 0; round < rounds; round++) {
                        ExpectedVersion expected = round == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(round - 1);
                        barrier.await(10, TimeUnit.SECONDS);
                        try {
                            AppendResult r = c.append("race", expected, List.of(event("t", "\"" + Thread.currentThread().getName() + "\"")))
                                    .get(10, TimeUnit.SECONDS);
                            wins.add(new long[] {round, r.firstVersion()});
                        } catch (java.util.concurrent.ExecutionException e) {
                            WrongExpectedVersionException w = assertInstanceOf(WrongExpectedVersionException.class, e.getCause());
                            assertEquals(round, w.currentVersion(), "the loser is told the winner's version");
                            conflictsSeen.add((long) round);
                        }
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            Thread ta = Thread.ofPlatform().name("a").start(racer);
            Thread tb = Thread.ofPlatform().name("b").start(racer);
            ta.join(60_000);
            tb.join(60_000);
            assertEquals(rounds, wins.size(), "exactly one winner per round");
            assertEquals(rounds, conflictsSeen.size(), "exactly one loser per round");
            for (long[] w : wins) {
                assertEquals(w[0], w[1], "the winner of round r wrote version r");
            }
            StreamPage page = a.readStream("race", 0, 1000, Direction.FORWARD).join();
            assertEquals(rounds, page.events().size());
            assertEquals(rounds - 1, page.lastVersion());
        }
    }

    @Test
    void typedErrorsKeepTheConnectionOpen() throws Exception {
        try (TestServer t = TestServer.start(dir); RawConnection raw = new RawConnection(t.socket)) {
            raw.send(Request.newBuilder().setId(10).setAppend(AppendRequest.newBuilder().setStream("")
                    .addEvents(NewEvent.newBuilder().setType("t"))).build());
            Response r = raw.next();
            assertEquals(10, r.getId());
            assertEquals(io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST, r.getError().getCode());

            raw.send(Request.newBuilder().setId(11).build());
            assertEquals(io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST, raw.next().getError().getCode());

            raw.send(Request.newBuilder().setId(12).setAppend(AppendRequest.newBuilder().setStream("s")
                    .setExpectedVersion(3).addEvents(NewEvent.newBuilder().setType("t"))).build());
            Response wrong = raw.next();
            assertEquals(io.ringstore.protocol.v1.ErrorCode.WRONG_EXPECTED_VERSION, wrong.getError().getCode());
            assertTrue(wrong.getError().hasCurrentVersion());
            assertEquals(-1, wrong.getError().getCurrentVersion());

            long at = t.client().append("s", ExpectedVersion.ANY, List.of(event("t", "1"))).join().firstPosition();
            raw.send(Request.newBuilder().setId(13).setReadAll(ReadAllRequest.newBuilder().setFromPosition(at + 8)).build());
            assertEquals(io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST, raw.next().getError().getCode());

            raw.send(Request.newBuilder().setId(14).setPing(PingRequest.getDefaultInstance()).build());
            assertEquals(Response.ResultCase.PING, raw.next().getResultCase());
        }
    }

    @Test
    void anOversizedFrameIsRefusedWithoutHurtingOthers() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c.withMaxFrameBytes(64 << 10))) {
            RingStoreClient good = t.client();
            try (RawConnection raw = new RawConnection(t.socket)) {
                // 2^35 - 1: would be 32 GiB if it were allocated.
                raw.writeBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f});
                Response r = raw.next();
                assertEquals(0, r.getId());
                assertEquals(io.ringstore.protocol.v1.ErrorCode.FRAME_TOO_LARGE, r.getError().getCode());
                assertNull(raw.next(), "the server closed the connection");
            }
            // An event larger than the frame limit, through the client: typed error, connection closed.
            RingStoreClient big = t.client();
            var f = big.append("s", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[100 << 10])));
            assertEquals(ErrorCode.FRAME_TOO_LARGE, failure(f).code());
            good.ping().get(10, TimeUnit.SECONDS);
            assertEquals(0, good.append("s", ExpectedVersion.ANY, List.of(event("t", "1"))).join().firstVersion());
        }
    }

    @Test
    void aStaleSocketIsReplacedAndALiveOneIsNeverStolen() throws Exception {
        Path socket = dir.resolve("rs.sock");
        // A crashed run leaves a socket file nobody listens on.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        try (TestServer t = TestServer.start(dir)) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            t.client().ping().get(10, TimeUnit.SECONDS);

            // A second daemon on the same socket (another data folder) refuses and leaves it alone.
            Path other = dir.resolve("other");
            try (var store2 = io.ringstore.store.RingStore.open(io.ringstore.store.StoreConfig.defaults(other.resolve("data"))
                    .withSegmentSize(1 << 20))) {
                SocketFile.InUseException e = assertThrows(SocketFile.InUseException.class,
                        () -> SocketServer.start(store2, ServerConfig.defaults(socket)));
                assertTrue(e.getMessage().contains("in use"), e.getMessage());
            }
            t.client().ping().get(10, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(socket), "a clean stop removes the socket");

        // Something that is not a socket is never replaced.
        Files.writeString(socket, "precious");
        var e = assertThrows(SocketFile.InUseException.class, () -> SocketFile.bind(socket, null, 1));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("precious", Files.readString(socket));

        // A live socket of another program is not stolen either.
        Path foreign = dir.resolve("foreign.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(foreign));
            var e2 = assertThrows(SocketFile.InUseException.class, () -> SocketFile.bind(foreign, null, 1));
            assertTrue(e2.getMessage().contains("listening"), e2.getMessage());
        }
    }

    @Test
    void closingAnswersWhatIsInFlightAndEndsSubscriptions() throws Exception {
        TestServer t = TestServer.start(dir);
        RingStoreClient c = t.client();
        CompletableFuture<RuntimeException> ended = new CompletableFuture<>();
        var sub = c.subscribe("$all", io.ringstore.client.SubscribeFrom.START, new io.ringstore.client.SubscriptionListener() {
            @Override
            public void onEvent(RecordedEvent event) {}

            @Override
            public void onEnd(RuntimeException error) {
                ended.complete(error);
            }
        });
        sub.confirmed().get(10, TimeUnit.SECONDS);
        var atGate = t.io.hold();
        var pending = c.append("s", ExpectedVersion.ANY, List.of(event("t", "1")));
        assertTrue(atGate.await(10, TimeUnit.SECONDS));
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                t.server.close();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        RuntimeException why = ended.get(10, TimeUnit.SECONDS);
        assertEquals(ErrorCode.SHUTTING_DOWN, assertInstanceOf(RingStoreException.class, why).code());
        t.io.open();
        assertEquals(0, pending.get(10, TimeUnit.SECONDS).firstVersion(), "the append in flight was answered");
        closer.join(15_000);
        assertFalse(closer.isAlive());
        t.store.close();
    }
}
