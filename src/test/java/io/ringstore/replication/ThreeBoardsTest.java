package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.testsupport.FreePorts;
import io.ringstore.writer.AckOptions;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One primary and two standbys in this JVM over loopback: in replica-memory an append is
 * acknowledged only once both standbys hold it, so one standby gone means REPLICA_UNAVAILABLE
 * naming it (no fallback to the other); when it returns it catches up, the unheld append's retry
 * is answered as a replay, and all three logs hold the same records at the same positions.
 */
@Timeout(90)
class ThreeBoardsTest {
    @TempDir
    Path dir;

    private final List<RingStore> open = new ArrayList<>();
    private final int[] ports = new int[3];

    @AfterEach
    void closeAll() {
        for (RingStore s : open) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                // best effort
            }
        }
    }

    private ReplicationOptions.Peer peer(int i) {
        return new ReplicationOptions.Peer("b" + (i + 1), new InetSocketAddress("127.0.0.1", ports[i]));
    }

    private RingStore board(int i, Role role) throws IOException {
        List<ReplicationOptions.Peer> peers = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            if (j != i) {
                peers.add(peer(j));
            }
        }
        ReplicationOptions r = new ReplicationOptions(role, "b" + (i + 1), peer(i).address(),
                role == Role.STANDBY ? peer(0) : null, peers, 60_000, AckMode.REPLICA_MEMORY, new PlainSockets());
        StoreConfig c = StoreConfig.defaults(dir.resolve("b" + (i + 1))).withSegmentSize(64 << 10)
                .withPsiFile(dir.resolve("no-psi"))
                .withAck(new AckOptions(AckMode.REPLICA_MEMORY, 1_000, AckOptions.DEFAULT_MAX_WAITING_BATCHES));
        RingStore s = RingStore.open(c, r);
        open.add(s);
        return s;
    }

    private static EventData event(int n, byte id) {
        byte[] eventId = null;
        if (id != 0) {
            eventId = new byte[EventData.EVENT_ID_LENGTH];
            eventId[0] = id;
        }
        return new EventData(eventId, "reading", ("reading " + n + " " + "x".repeat(200)).getBytes(StandardCharsets.UTF_8), null);
    }

    private static void await(String what, BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Every record a board's log holds from its start: position, stream, version, event id. */
    private static List<String> records(RingStore s) {
        List<String> out = new ArrayList<>();
        long at = 0;
        while (true) {
            MainLog.ReadBatch b = s.readLog(at, 256);
            if (b.records().isEmpty()) {
                return out;
            }
            for (LogRecord r : b.records()) {
                out.add(r.getPosition() + " " + r.getStream() + "@" + r.getVersion() + " " + java.util.HexFormat.of().formatHex(r.getEventId().toByteArray()));
            }
            at = b.next();
        }
    }

    @Test
    void acknowledgementsWaitForEveryStandbyAndTheThreeLogsConverge() throws Exception {
        for (int i = 0; i < 3; i++) {
            ports[i] = FreePorts.next();
        }
        RingStore b1 = board(0, Role.PRIMARY);
        RingStore b2 = board(1, Role.STANDBY);
        RingStore b3 = board(2, Role.STANDBY);
        List<AppendResult> acked = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            acked.add(b1.append("sensor", ExpectedVersion.ANY, List.of(event(i, (byte) 0))).join());
        }
        assertEquals(AckMode.REPLICA_MEMORY, acked.getLast().ackMode());
        long end = acked.getLast().lastPosition();
        for (RingStore s : List.of(b2, b3)) {
            assertTrue(s.replication().status().held() > end, "each standby held an acknowledged append");
        }

        // One standby gone: no fallback to the other one.
        open.remove(b3);
        b3.close();
        CompletionException refused = assertThrows(CompletionException.class,
                () -> b1.append("sensor", ExpectedVersion.exactly(59), List.of(event(60, (byte) 7))).join());
        RingStoreException e = (RingStoreException) refused.getCause();
        assertEquals(ErrorCode.REPLICA_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("b3"), "the error names the missing standby: " + e.getMessage());

        // It comes back, catches up, and the unheld append's retry learns it was stored once.
        b3 = board(2, Role.STANDBY);
        RingStore back = b3;
        AppendResult retried = b1.append("sensor", ExpectedVersion.exactly(59), List.of(event(60, (byte) 7))).join();
        assertTrue(retried.replayed(), "the retry is answered with the original versions");
        assertEquals(60, retried.firstVersion());
        for (int i = 61; i < 80; i++) {
            acked.add(b1.append("sensor", ExpectedVersion.ANY, List.of(event(i, (byte) 0))).join());
        }
        long last = acked.getLast().lastPosition();
        await("both standbys commit the primary's end", () -> b2.committedPosition() > last && back.committedPosition() > last);
        List<String> primary = records(b1);
        assertEquals(80, primary.size(), "60 appends, the retried one, 19 more");
        assertEquals(primary, records(b2), "b2 holds the same records at the same positions");
        assertEquals(primary, records(back), "b3 holds the same records at the same positions");
    }
}
