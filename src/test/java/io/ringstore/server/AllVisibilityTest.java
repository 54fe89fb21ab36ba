package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.Subscription;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.protocol.v1.StreamLimits;
import io.ringstore.read.AllReader;
import io.ringstore.read.Direction;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code $all} reads and {@code $all} subscriptions over the socket leave out what a stream read
 * would: events past a count limit, an age limit, truncate_before, a soft delete, a tombstone,
 * while every other stream's events (and the {@code $$} metadata events) still come through in
 * log order; a page of nothing but hidden events still moves on; the same after a restart.
 */
class AllVisibilityTest {
    private static final long WAIT_SECONDS = 30;
    /** More hidden events in a row than one $all page may skip ({@link AllReader#MAX_HIDDEN_RECORDS}). */
    private static final int HIDDEN_RUN = 5_000;

    @TempDir
    Path dir;

    /** Each stream's events by version (their positions), and the metadata events' positions. */
    private final Map<String, List<Long>> positions = new HashMap<>();
    private final List<Long> metadata = new ArrayList<>();

    private void append(RingStoreClient c, String stream, int n) {
        List<EventData> events = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            events.add(EventData.of("t", (stream + "-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        AppendResult r = c.append(stream, ExpectedVersion.ANY, events).join();
        List<Long> p = positions.computeIfAbsent(stream, s -> new ArrayList<>());
        assertEquals(p.size(), r.firstVersion());
        // An append's result names its first and last position only: the ones between come from
        // a stream read of the same versions (-1 for a version that read no longer returns).
        Map<Long, Long> read = new HashMap<>();
        for (RecordedEvent e : c.readStream(stream, r.firstVersion(), n, Direction.FORWARD).join().events()) {
            read.put(e.version(), e.position());
        }
        for (long v = r.firstVersion(); v <= r.lastVersion(); v++) {
            p.add(read.getOrDefault(v, -1L));
        }
        assertEquals(r.lastPosition(), p.getLast());
    }

    /** What a $all read must return: each stream's versions from {@code first} on, and every metadata event. */
    private List<Long> expected(Map<String, Long> first) {
        List<Long> out = new ArrayList<>(metadata);
        positions.forEach((stream, p) -> {
            long from = first.getOrDefault(stream, 0L);
            for (long v = from; v < p.size(); v++) {
                assertTrue(p.get((int) v) >= 0, "the test knows where " + stream + "@" + v + " is");
                out.add(p.get((int) v));
            }
        });
        Collections.sort(out);
        return out;
    }

    private static StreamLimits.Builder limits() {
        return StreamLimits.newBuilder();
    }

    /** Pages through $all from the start; checks that every page moves on. */
    private static List<RecordedEvent> readAllPaged(RingStoreClient c, int pageSize) {
        List<RecordedEvent> out = new ArrayList<>();
        long from = 0;
        for (int pages = 0; ; pages++) {
            assertTrue(pages < 10_000, "paging $all does not end");
            AllPage page = c.readAll(from, pageSize).join();
            out.addAll(page.events());
            if (page.end()) {
                break;
            }
            assertTrue(page.nextPosition() > from, "a page moves on: from=" + from + " next=" + page.nextPosition());
            from = page.nextPosition();
        }
        return out;
    }

    /** Collects a subscription's events in arrival order. */
    private static final class Collector implements SubscriptionListener {
        final List<RecordedEvent> events = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Long> caughtUp = new CompletableFuture<>();
        volatile CountDownLatch more;

        @Override
        public void onEvent(RecordedEvent e) {
            events.add(e);
            CountDownLatch m = more;
            if (m != null) {
                m.countDown();
            }
        }

        @Override
        public void onCaughtUp(long position) {
            caughtUp.complete(position);
        }
    }

    private static List<Long> positionsOf(List<RecordedEvent> events) {
        synchronized (events) {
            return events.stream().map(RecordedEvent::position).toList();
        }
    }

    /** Fails naming (a few of) the events that should not be there and the positions missing. */
    private static void assertPositions(List<Long> want, List<RecordedEvent> got, String what) {
        List<Long> gotPositions = positionsOf(got);
        if (want.equals(gotPositions)) {
            return;
        }
        java.util.Set<Long> wanted = new java.util.HashSet<>(want);
        List<String> extra;
        synchronized (got) {
            extra = got.stream().filter(e -> !wanted.contains(e.position()))
                    .map(e -> e.stream() + "@" + e.version()).limit(10).toList();
        }
        List<Long> missing = want.stream().filter(p -> !gotPositions.contains(p)).limit(10).toList();
        throw new AssertionError(what + ": expected " + want.size() + " events, got " + gotPositions.size()
                + "; unexpected (first 10) " + extra + ", missing positions (first 10) " + missing
                + (extra.isEmpty() && missing.isEmpty() ? ", order differs: " + gotPositions : ""));
    }

    private void checkAll(RingStoreClient c, Map<String, Long> first, String when) throws Exception {
        List<Long> want = expected(first);
        List<RecordedEvent> read = readAllPaged(c, 4);
        assertPositions(want, read, when + ": $all read");
        // A page that starts in the run of hidden events: none to return, yet it moves on, by
        // as many records as one page may skip.
        List<Long> soft = positions.get("soft");
        AllPage hiddenOnly = c.readAll(soft.get(10), 4).join();
        assertEquals(List.of(), hiddenOnly.events(), when + ": a page of hidden events only");
        assertFalse(hiddenOnly.end(), when);
        assertEquals(soft.get(10 + AllReader.MAX_HIDDEN_RECORDS), hiddenOnly.nextPosition(),
                when + ": the page skipped at most " + AllReader.MAX_HIDDEN_RECORDS + " records and moved past them");
        for (RecordedEvent e : read) {
            if (metadata.contains(e.position())) {
                assertTrue(e.stream().startsWith("$$"), "metadata events stay in $all: " + e);
            }
        }
        Collector sub = new Collector();
        try (Subscription s = c.subscribe("$all", SubscribeFrom.START, sub)) {
            sub.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertPositions(want, sub.events, when + ": $all subscription catch-up");
            s.close();
            assertNull(s.ended().get(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void allReadsAndSubscriptionsLeaveOutWhatStreamLimitsHide() throws Exception {
        Map<String, Long> first = new HashMap<>();
        try (TestServer t = TestServer.start(dir)) {
            RingStoreClient c = t.client();
            // Interleaved, so hidden events sit between visible ones in the log.
            for (int round = 0; round < 10; round++) {
                for (String s : List.of("aged", "free", "count", "trunc", "soft", "hard")) {
                    append(c, s, 1);
                }
            }
            long agedDone = System.nanoTime();
            for (int i = 0; i < HIDDEN_RUN / 100; i++) {
                append(c, "soft", 100);
            }
            append(c, "free", 1);
            // The age limit is about wall-clock time: let "aged" grow older than 1 s, with margin.
            while (System.nanoTime() - agedDone < TimeUnit.MILLISECONDS.toNanos(2_200)) {
                Thread.sleep(50);
            }
            metadata.add(c.setStreamLimits("count", limits().setMaxCount(3).build()).join());
            metadata.add(c.setStreamLimits("trunc", limits().setTruncateBefore(6).build()).join());
            metadata.add(c.setStreamLimits("aged", limits().setMaxAgeSeconds(1).build()).join());
            metadata.add(c.deleteStream("soft", false).join());
            metadata.add(c.deleteStream("hard", true).join());
            append(c, "soft", 2); // a soft-deleted stream goes on; these are visible
            append(c, "free", 1);
            first.put("count", 7L);
            first.put("trunc", 6L);
            first.put("aged", 10L);
            first.put("soft", (long) HIDDEN_RUN + 10);
            first.put("hard", 10L);
            checkAll(c, first, "before restart");

            // Live: one append of five to "count" (max_count 3) commits at once, so when the
            // subscription reads it the first two are already past the limit.
            Collector live = new Collector();
            try (Subscription s = c.subscribe("$all", SubscribeFrom.END, live)) {
                s.confirmed().get(WAIT_SECONDS, TimeUnit.SECONDS);
                live.caughtUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
                live.more = new CountDownLatch(4);
                append(c, "count", 5);
                append(c, "free", 1);
                assertTrue(live.more.await(WAIT_SECONDS, TimeUnit.SECONDS), "live events: " + live.events);
                List<Long> count = positions.get("count");
                List<Long> free = positions.get("free");
                assertPositions(List.of(count.get(12), count.get(13), count.get(14), free.getLast()), live.events,
                        "live: only what a stream read would return");
                s.close();
                assertNull(s.ended().get(WAIT_SECONDS, TimeUnit.SECONDS));
            }
            first.put("count", 12L);
            checkAll(c, first, "after live appends");
        }
        try (TestServer t = TestServer.start(dir)) {
            checkAll(t.client(), first, "after restart");
        }
    }
}
