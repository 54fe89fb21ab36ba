package io.ringstore.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.read.Direction;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest rounds against a real store, with the broker's connection stood in for by a link
 * that records PUBACKs: each PUBACK goes after its message is readable (durable: sync), in
 * arrival order; a message that cannot be stored is acknowledged, counted and leaves its
 * neighbours stored; a redelivery with the same event id is not stored again; a dropped
 * connection gets no PUBACKs.
 */
class IngestLoopTest {
    @TempDir
    Path dir;

    /** Records PUBACKs, checking at each that the message is already in the store. */
    private static final class RecordingLink implements IngestLoop.Link {
        final List<Integer> acks = new CopyOnWriteArrayList<>();
        final List<String> problems = new CopyOnWriteArrayList<>();
        volatile boolean alive = true;
        final RingStore store;
        final Map<Integer, String> expectStream;

        RecordingLink(RingStore store, Map<Integer, String> expectStream) {
            this.store = store;
            this.expectStream = expectStream;
        }

        @Override
        public boolean alive() {
            return alive;
        }

        @Override
        public void ack(int messageId) {
            String stream = expectStream.get(messageId);
            if (stream != null) {
                boolean found = store.readStream(stream, 0, 10_000, Direction.FORWARD).events().stream()
                        .anyMatch(e -> new String(e.getData().toByteArray(), StandardCharsets.UTF_8).equals("m" + messageId));
                if (!found) {
                    problems.add("PUBACK " + messageId + " before it was stored");
                }
            }
            acks.add(messageId);
        }
    }

    private static IngestLoop.Inbound msg(IngestLoop.Link link, int id, String topic, String payload, UUID eventId) {
        return new IngestLoop.Inbound(link, id, topic, payload.getBytes(StandardCharsets.UTF_8), null,
                eventId == null ? List.of() : List.of(Map.entry("event-id", eventId.toString())), false);
    }

    @Test
    void acksFollowTheDurableAppendInArrivalOrderAndBadMessagesAreAcknowledgedAndCounted() throws Exception {
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir).withSegmentSize(1 << 20))) {
            List<String> errors = new ArrayList<>();
            IngestLoop loop = new IngestLoop(() -> store,
                    new MessageMapper(TopicRule.parseAll("s/+ -> s-{1}; bad/+ -> ${1}"), "event-id"), errors::add);
            Map<Integer, String> streams = new java.util.HashMap<>();
            List<IngestLoop.Inbound> round = new ArrayList<>();
            RecordingLink link = new RecordingLink(store, streams);
            UUID[] ids = new UUID[40];
            for (int i = 1; i <= 40; i++) {
                String topic = i == 17 ? "bad/x" : "s/" + (i % 3);
                if (i != 17) {
                    streams.put(i, "s-" + (i % 3));
                }
                // Streams 0 and 1 carry event ids; stream 2 has none; stream 1 switches halfway.
                ids[i - 1] = i % 3 == 0 || (i % 3 == 1 && i > 20) ? UUID.randomUUID() : null;
                round.add(msg(link, i, topic, "m" + i, ids[i - 1]));
            }
            loop.process(round);
            assertEquals(List.of(), link.problems);
            List<Integer> expected = new ArrayList<>();
            for (int i = 1; i <= 40; i++) {
                expected.add(i);
            }
            assertEquals(expected, link.acks, "every message acknowledged, in arrival order");
            assertEquals(39, loop.stored.get());
            assertEquals(1, loop.failures.get());
            assertTrue(errors.get(0).contains("'bad/x'") && errors.get(0).contains("reserved"), errors.toString());
            for (int s = 0; s < 3; s++) {
                List<String> data = store.readStream("s-" + s, 0, 100, Direction.FORWARD).events().stream()
                        .map(e -> new String(e.getData().toByteArray(), StandardCharsets.UTF_8)).toList();
                List<String> want = new ArrayList<>();
                for (int i = 1; i <= 40; i++) {
                    if (i != 17 && i % 3 == s) {
                        want.add("m" + i);
                    }
                }
                assertEquals(want, data, "stream s-" + s + " in arrival order");
            }

            // The broker delivers the same messages again (a crash before the PUBACKs): those with
            // an event id are recognised and not stored again; those without are stored twice.
            RecordingLink again = new RecordingLink(store, Map.of());
            List<IngestLoop.Inbound> redelivery = new ArrayList<>();
            int withIds = 0;
            for (int i = 1; i <= 40; i++) {
                if (i != 17) {
                    redelivery.add(msg(again, i, "s/" + (i % 3), "m" + i, ids[i - 1]));
                    withIds += ids[i - 1] != null ? 1 : 0;
                }
            }
            loop.process(redelivery);
            assertEquals(39, again.acks.size());
            assertEquals(withIds, loop.replayed.get(), "redeliveries recognised by event id");
            long total = 0;
            for (int s = 0; s < 3; s++) {
                total += store.readStream("s-" + s, 0, 1000, Direction.FORWARD).events().size();
            }
            assertEquals(39 + (39 - withIds), total, "only the messages without an event id were stored twice");

            // A connection that dropped: its messages get no PUBACK (the broker sends them again).
            RecordingLink gone = new RecordingLink(store, Map.of());
            List<IngestLoop.Inbound> late = List.of(msg(gone, 1, "s/1", "late", null));
            gone.alive = false;
            loop.process(late);
            assertEquals(List.of(), gone.acks);
        }
    }

    @Test
    void aMessageLargerThanTheStoreTakesIsAcknowledgedAndItsNeighboursStored() throws Exception {
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir).withSegmentSize(1 << 20))) {
            IngestLoop loop = new IngestLoop(() -> store, new MessageMapper(TopicRule.parseAll("s/+ -> s-{1}"),
                    "event-id"), e -> { });
            RecordingLink link = new RecordingLink(store, Map.of());
            String big = "x".repeat(5 << 20);
            loop.process(List.of(msg(link, 1, "s/a", "m1", null), msg(link, 2, "s/a", big, null),
                    msg(link, 3, "s/a", "m3", null)));
            assertEquals(List.of(1, 2, 3), link.acks);
            assertEquals(1, loop.failures.get());
            assertEquals(List.of("m1", "m3"), store.readStream("s-a", 0, 10, Direction.FORWARD).events().stream()
                    .map(e -> new String(e.getData().toByteArray(), StandardCharsets.UTF_8)).toList());
        }
    }
}
