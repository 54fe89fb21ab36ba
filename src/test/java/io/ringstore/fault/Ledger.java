package io.ringstore.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllSlice;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/** What producers were told, and the check that the log holds exactly the acknowledged events. */
final class Ledger {
    /** An acknowledged append: what was sent and what the store answered. */
    record Acked(String stream, List<EventData> events, AppendResult result) {}

    final ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<ErrorCode> failures = new ConcurrentLinkedQueue<>();

    /** Every record of {@code $all}, read in batches the way a subscriber would. */
    static List<LogRecord> readAll(RingStore store) {
        List<LogRecord> all = new ArrayList<>();
        long position = 0;
        while (true) {
            AllSlice batch = store.readAll(position, 64);
            all.addAll(batch.records());
            if (batch.end()) {
                return all;
            }
            position = batch.next();
        }
    }

    /**
     * Checks that each stream read through the store (its file and the log's tail) holds exactly
     * its acknowledged events, versions 0, 1, 2, ... with the acknowledged ids and data.
     */
    void verifyStreams(RingStore store, String when) {
        Map<String, List<EventData>> byStream = new HashMap<>();
        Map<String, Long> firstVersion = new HashMap<>();
        List<Acked> inOrder = new ArrayList<>(acked);
        inOrder.sort(java.util.Comparator.comparingLong(a -> a.result().firstPosition()));
        for (Acked a : inOrder) {
            firstVersion.putIfAbsent(a.stream(), a.result().firstVersion());
            byStream.computeIfAbsent(a.stream(), k -> new ArrayList<>()).addAll(a.events());
        }
        for (Map.Entry<String, List<EventData>> e : byStream.entrySet()) {
            String stream = e.getKey();
            List<LogRecord> read = new ArrayList<>();
            long from = 0;
            while (true) {
                io.ringstore.read.StreamSlice slice = store.readStream(stream, from, 256, io.ringstore.read.Direction.FORWARD);
                read.addAll(slice.events());
                if (slice.endOfStream() || slice.events().isEmpty()) {
                    break;
                }
                from = slice.nextVersion();
            }
            assertEquals(0L, firstVersion.get(stream), when + ": " + stream + " starts at version 0");
            assertEquals(e.getValue().size(), read.size(), when + ": events of " + stream + " read back");
            for (int i = 0; i < read.size(); i++) {
                assertEquals(i, read.get(i).getVersion(), when + ": version of " + stream);
                assertArrayEquals(e.getValue().get(i).eventId(), read.get(i).getEventId().toByteArray(),
                        when + ": event id of " + stream + "@" + i);
                assertArrayEquals(e.getValue().get(i).data(), read.get(i).getData().toByteArray(),
                        when + ": data of " + stream + "@" + i);
            }
        }
    }

    /** Largest position any acknowledged append ended at. */
    long lastAckedPosition() {
        return acked.stream().mapToLong(a -> a.result().lastPosition()).max().orElse(-1);
    }

    /**
     * Checks that {@code $all} holds exactly the acknowledged events: each stream's versions run
     * 0, 1, 2, ... in log order; each acknowledged event is there with its stream, version, event
     * id, type, data, metadata and the positions the store acknowledged; nothing else is there.
     */
    void verify(RingStore store, String when) {
        List<LogRecord> all = readAll(store);
        Map<String, Long> nextVersion = new HashMap<>();
        Map<String, LogRecord> byStreamVersion = new HashMap<>();
        long previousPosition = -1;
        for (LogRecord r : all) {
            long expected = nextVersion.getOrDefault(r.getStream(), 0L);
            assertEquals(expected, r.getVersion(), when + ": version continuity of " + r.getStream()
                    + " at position " + r.getPosition());
            nextVersion.put(r.getStream(), expected + 1);
            assertTrue(r.getPosition() > previousPosition, when + ": positions must increase");
            previousPosition = r.getPosition();
            byStreamVersion.put(r.getStream() + "@" + r.getVersion(), r);
        }
        long ackedEvents = 0;
        for (Acked a : acked) {
            AppendResult result = a.result();
            for (int i = 0; i < a.events().size(); i++) {
                ackedEvents++;
                long version = result.firstVersion() + i;
                String key = a.stream() + "@" + version;
                LogRecord r = byStreamVersion.get(key);
                assertNotNull(r, when + ": acknowledged event missing: " + key);
                EventData e = a.events().get(i);
                assertArrayEquals(e.eventId(), r.getEventId().toByteArray(), when + ": event id of " + key);
                assertEquals(e.type(), r.getType(), when + ": type of " + key);
                assertArrayEquals(e.data(), r.getData().toByteArray(), when + ": data of " + key);
                assertArrayEquals(e.metadata(), r.getMetadata().toByteArray(), when + ": metadata of " + key);
                if (i == 0) {
                    assertEquals(result.firstPosition(), r.getPosition(), when + ": first position of " + key);
                }
                if (i == a.events().size() - 1) {
                    assertEquals(result.lastPosition(), r.getPosition(), when + ": last position of " + key);
                }
            }
        }
        assertEquals(ackedEvents, all.size(), when + ": the log must hold exactly the acknowledged events");
    }
}
