package io.ringstore.read;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.RecordFields;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.protocol.StreamAnswer;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Response;
import io.ringstore.server.TestServer;
import io.ringstore.split.PressureGauge;
import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterState;
import io.ringstore.store.RingStore;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's read path: forward stream reads through the socket answered from the stored bytes
 * ({@link StreamAnswer}), decoded by the client without protobuf messages, paged with resume
 * points into the stream file and pipelined by {@link RingStoreClient#readStreamToEnd}. Each
 * check compares against the general path ({@link RingStore#readStream}, records decoded into
 * objects), event for event and field for field.
 */
class ForwardReadTest {
    @TempDir
    Path dir;

    /** The splitter pauses while it is held (as under I/O pressure). */
    private static final class Gauge implements PressureGauge {
        volatile boolean high;

        @Override
        public PressureReading read() {
            return high ? new PressureReading(95, 0, 0) : PressureReading.CALM;
        }
    }

    @Test
    void theAnswerFromStoredBytesIsTheAnswerFromRecords() throws Exception {
        SplittableRandom random = new SplittableRandom(19);
        List<LogRecord> records = new ArrayList<>();
        for (int v = 0; v < 50; v++) {
            byte[] data = new byte[random.nextInt(0, 700)];
            random.nextBytes(data);
            LogRecord.Builder b = LogRecord.newBuilder().setPosition(4096L * v + 64).setVersion(v)
                    .setDurableBefore(v % 3 == 0 ? 0 : 1L << (v % 40)).setStream("sensor-é-" + (v % 2))
                    .setEventId(ByteString.copyFrom(new byte[16])).setType(v % 4 == 0 ? "" : "reading")
                    .setData(ByteString.copyFrom(data)).setTimestampMicros(v % 5 == 0 ? -v : 1_700_000_000_000_000L + v);
            if (v % 3 == 1) {
                b.setMetadata(ByteString.copyFromUtf8("{\"unit\":\"C\"}"));
            }
            records.add(b.build());
        }
        RecordFields fields = new RecordFields();
        StreamAnswer answer = new StreamAnswer(300); // small: events cross chunks
        // A read that starts over (StreamReader clears its sink before each attempt): what was
        // added before is forgotten, though the chunk it was written into is written over.
        for (LogRecord r : records.subList(0, 20)) {
            byte[] body = r.toByteArray();
            assertTrue(fields.scan(body, 0, body.length));
            answer.add(body, fields);
        }
        answer.clear();
        assertEquals(0, answer.events());
        ReadStreamResponse.Builder expected = ReadStreamResponse.newBuilder();
        long eventBytes = 0;
        for (LogRecord r : records) {
            byte[] body = r.toByteArray();
            assertTrue(fields.scan(body, 0, body.length));
            assertEquals(r.getVersion(), fields.version());
            assertEquals(r.getPosition(), fields.position());
            assertEquals(r.getTimestampMicros(), fields.timestampMicros());
            assertTrue(fields.streamIs(body, r.getStream().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(Wire.event(r).getSerializedSize(), StreamAnswer.eventLength(fields));
            answer.add(body, fields);
            expected.addEvents(Wire.event(r));
            eventBytes += Wire.event(r).getSerializedSize();
        }
        assertEquals(eventBytes, answer.eventBytes(), "counted against read_page_bytes as the general path counts");
        expected.setLastVersion(49).setNextVersion(-1).setEndOfStream(true).setStandbyBehindBytes(0);
        Response mine = Response.parseFrom(answer.response(7, 49, -1, true, 0).toByteArray());
        assertEquals(Response.newBuilder().setId(7).setReadStream(expected).build(), mine);
        assertTrue(!fields.scan(new byte[] {0x22, 5, 'a'}, 0, 3), "a cut body is refused");
    }

    @Test
    void socketReadsAcrossFileAndTailMatchTheGeneralPath() throws Exception {
        Gauge gauge = new Gauge();
        try (TestServer t = TestServer.start(dir, c -> c.withReadPageBytes(4096), c -> c.withPressureGauge(gauge))) {
            RingStore store = t.store;
            RingStoreClient client = t.client();
            SplittableRandom random = new SplittableRandom(7);
            appendSome(client, random, 300);
            store.splitter().drain();
            await(() -> store.splitterStatus().lagEvents() == 0, "split");
            gauge.high = true;
            store.splitter().wake();
            await(() -> store.splitterStatus().state() == SplitterState.PAUSED_FOR_PRESSURE, "pause");
            appendSome(client, random, 200); // these stay in the log tail
            List<LogRecord> truth = store.readStream("s", 0, 4096, Direction.FORWARD).events();
            assertEquals(500, truth.size());

            // The client's pipelined whole-stream read, from the start and from the middle.
            for (int from : new int[] {0, 123, 299, 300, 499}) {
                List<RecordedEvent> got = new ArrayList<>();
                long n = client.readStreamToEnd("s", from, got::add).join();
                assertEquals(500 - from, n);
                assertSame(truth.subList(from, 500), got);
                // The blocking one: the same events, handed over on the calling thread.
                List<RecordedEvent> mine = new ArrayList<>();
                Thread caller = Thread.currentThread();
                n = client.readStreamToEndAndWait("s", from, e -> {
                    assertEquals(caller, Thread.currentThread(), "consumer on the calling thread");
                    mine.add(e);
                });
                assertEquals(500 - from, n);
                assertSame(truth.subList(from, 500), mine);
            }
            // Many pages (read_page_bytes is 4 KiB here), so the blocking read pipelines pages.
            List<RecordedEvent> all = new ArrayList<>();
            assertEquals(500, client.readStreamToEndAndWait("s", 0, all::add));
            assertSame(truth, all);
            // Pages of 37 by count, and pages cut at read_page_bytes (4 KiB: a few events each).
            for (int count : new int[] {37, 4096}) {
                List<RecordedEvent> got = new ArrayList<>();
                long from = 0;
                int pages = 0;
                while (true) {
                    StreamPage page = client.readStream("s", from, count, Direction.FORWARD).join();
                    pages++;
                    assertEquals(499, page.lastVersion());
                    assertTrue(page.events().size() <= count);
                    long bytes = page.events().stream().mapToLong(e -> e.toEvent().getSerializedSize()).sum();
                    assertTrue(page.events().size() == 1 || bytes <= 4096, "page within read_page_bytes: " + bytes);
                    got.addAll(page.events());
                    if (page.endOfStream()) {
                        assertEquals(-1, page.nextVersion());
                        break;
                    }
                    from = page.nextVersion();
                }
                assertSame(truth, got);
                assertTrue(pages > 500 / count, "pages: " + pages);
            }
            // A file lost between two pages (the resume point names a file that is gone): the
            // read rebuilds it from the log and goes on, still complete and in order.
            StreamPage first = client.readStream("s", 0, 50, Direction.FORWARD).join();
            int at = (int) first.nextVersion();
            assertTrue(at > 0 && at < 300, "the first page ends in the file: " + at);
            Files.delete(streamFile(store, "s"));
            List<RecordedEvent> rest = new ArrayList<>();
            client.readStreamToEnd("s", at, rest::add).join();
            assertSame(truth.subList(at, 500), rest);
        }
    }

    @Test
    void wholeReadsFailAsPageReadsDo() throws Exception {
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient client = t.client();
            CompletionException e = assertThrows(CompletionException.class,
                    () -> client.readStreamToEnd("nothing-here", 0, x -> { }).join());
            assertEquals(ErrorCode.STREAM_NOT_FOUND, assertInstanceOf(RingStoreException.class, e.getCause()).code());
            client.append("one", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {1}))).join();
            assertEquals(0, client.readStreamToEnd("one", 5, x -> { }).join(), "past the end: nothing");
            IllegalStateException boom = new IllegalStateException("consumer failed");
            e = assertThrows(CompletionException.class, () -> client.readStreamToEnd("one", 0, x -> {
                throw boom;
            }).join());
            assertEquals(boom, e.getCause());
            assertEquals(1, client.readStreamToEnd("one", 0, x -> { }).join(), "the connection still serves reads");

            // The blocking read fails the same ways, typed, on the calling thread.
            RingStoreException missing = assertThrows(RingStoreException.class,
                    () -> client.readStreamToEndAndWait("nothing-here", 0, x -> { }));
            assertEquals(ErrorCode.STREAM_NOT_FOUND, missing.code());
            assertEquals(0, client.readStreamToEndAndWait("one", 5, x -> { }), "past the end: nothing");
            assertEquals(boom, assertThrows(IllegalStateException.class, () -> client.readStreamToEndAndWait("one", 0, x -> {
                throw boom;
            })));
            assertEquals(1, client.readStreamToEndAndWait("one", 0, x -> { }), "the connection still serves reads");
        }
    }

    /**
     * A read with nothing behind it is served on the connection's thread; with requests behind
     * it, on a thread of its own. Either way every pipelined request is answered, and a consumer
     * that throws midway through a many-page read leaves the connection serving: the page it had
     * already asked for is read by the client's reading thread.
     */
    @Test
    void pipelinedReadsAndAppendsAreAllAnswered() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c.withReadPageBytes(4096), c -> c)) {
            RingStoreClient client = t.client();
            SplittableRandom random = new SplittableRandom(11);
            appendSome(client, random, 200);
            List<java.util.concurrent.CompletableFuture<?>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                all.add(client.readStream("s", i, 10, Direction.FORWARD));
                all.add(client.append("p", ExpectedVersion.ANY, List.of(EventData.of("t", new byte[] {(byte) i}))));
                all.add(client.readStreamToEnd("other-" + (i % 5), 0, x -> { }));
            }
            for (int i = 0; i < all.size(); i++) {
                Object r = all.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS);
                if (i % 3 == 0) {
                    StreamPage page = (StreamPage) r;
                    assertTrue(!page.events().isEmpty() && page.events().size() <= 10, "page of " + page.events().size());
                    for (int k = 0; k < page.events().size(); k++) {
                        assertEquals(i / 3 + k, page.events().get(k).version());
                    }
                } else if (i % 3 == 2) {
                    assertEquals(40L, r, "other-N has 40 events");
                }
            }
            assertEquals(199, client.readStream("p", 0, 1000, Direction.FORWARD).join().lastVersion());
            int[] seen = new int[1];
            RuntimeException stop = new RuntimeException("enough");
            assertEquals(stop, assertThrows(RuntimeException.class, () -> client.readStreamToEndAndWait("s", 0, e -> {
                if (++seen[0] == 3) {
                    throw stop;
                }
            })));
            // The next page's answer was still on its way; the connection goes on regardless.
            assertEquals(200, client.readStreamToEnd("s", 0, x -> { }).get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(200, client.readStreamToEndAndWait("s", 0, x -> { }));
        }
    }

    private static Path streamFile(RingStore store, String stream) throws Exception {
        try (var files = Files.walk(store.config().streamsDir())) {
            return files.filter(p -> p.getFileName().toString().startsWith(stream + "-")).findFirst().orElseThrow();
        }
    }

    private static void appendSome(RingStoreClient client, SplittableRandom random, int n) {
        for (int i = 0; i < n; i++) {
            byte[] data = new byte[random.nextInt(0, 600)];
            random.nextBytes(data);
            byte[] metadata = i % 7 == 0 ? new byte[] {1, 2, 3} : new byte[0];
            client.append("s", ExpectedVersion.ANY, List.of(new EventData(null, "type-" + (i % 3), data, metadata))).join();
            client.append("other-" + (i % 5), ExpectedVersion.ANY, List.of(EventData.of("x", data))).join();
        }
    }

    private static void assertSame(List<LogRecord> truth, List<RecordedEvent> got) {
        assertEquals(truth.size(), got.size());
        for (int i = 0; i < truth.size(); i++) {
            LogRecord r = truth.get(i);
            RecordedEvent e = got.get(i);
            assertEquals(r.getVersion(), e.version());
            assertEquals(r.getStream(), e.stream());
            assertEquals(r.getPosition(), e.position());
            assertEquals(r.getType(), e.type());
            assertEquals(r.getTimestampMicros(), e.timestampMicros());
            assertArrayEquals(r.getEventId().toByteArray(), e.eventId());
            assertArrayEquals(r.getData().toByteArray(), e.data());
            assertArrayEquals(r.getMetadata().toByteArray(), e.metadata());
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }
}
