package io.ringstore.replication;

import static io.ringstore.replication.DaemonBoards.await;
import static io.ringstore.replication.DaemonBoards.connect;
import static io.ringstore.replication.DaemonBoards.freshStatus;
import static io.ringstore.replication.DaemonBoards.kill;
import static io.ringstore.replication.DaemonBoards.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.PromoteResponse;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import io.ringstore.replication.DaemonBoards.Board;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real daemons (child JVMs) on loopback, over mutual TLS with keys made as keygen makes them: the standby is SIGKILLed and restarted and catches
 * up; then the primary is SIGKILLed and the standby promoted with {@code ringstore promote}'s
 * request over its Unix socket. Every event the primary acknowledged is read back from the
 * promoted board; the old primary restarts, finds the newer epoch and follows it.
 *
 * <p>The primary runs ack_mode replica-memory, but in this branch its writer does not yet wait
 * for the standby (the ack-mode work does), so before each kill the test waits until the standby
 * holds what the primary acknowledged, as replica-memory would have.
 */
@Timeout(120)
class ReplicationDaemonTest {
    @TempDir
    Path dir;

    @TempDir
    static Path keys;

    private DaemonBoards boards;

    /** Real keys made as keygen makes them; each board trusts the other's certificate. */
    @org.junit.jupiter.api.BeforeAll
    static void makeKeys() throws Exception {
        DaemonBoards.makeKeys(keys, "b1", "b2");
    }

    @org.junit.jupiter.api.BeforeEach
    void boards() {
        boards = new DaemonBoards(dir, keys);
    }

    @AfterEach
    void killAll() throws InterruptedException {
        boards.close();
    }

    private Board board(String name) throws IOException {
        return boards.board(name);
    }

    private Process start(Board me, Board other, String role) throws IOException {
        return boards.start(me, other, role, "replica-memory");
    }

    private Process start(Board me, Board other, String role, String ackMode) throws IOException {
        return boards.start(me, other, role, ackMode);
    }

    /** Appends n events, one per append, and returns their acknowledgements. */
    private static List<AppendResult> append(RingStoreClient c, String stream, int n) throws Exception {
        List<AppendResult> acks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            acks.add(c.append(stream, ExpectedVersion.ANY, List.of(EventData.of("reading",
                    ("value " + i + " " + "x".repeat(300)).getBytes(StandardCharsets.UTF_8)))).get(10, TimeUnit.SECONDS));
        }
        return acks;
    }

    /** The standby's reads reach what the primary acknowledged (it commits only what the primary told it). */
    private static void awaitStandbyHolds(RingStoreClient primary, RingStoreClient standby) throws InterruptedException {
        long acknowledged = status(primary).getCommittedPosition();
        await("standby holds position " + acknowledged, () -> status(standby).getCommittedPosition() >= acknowledged);
    }

    @Test
    void acknowledgedEventsSurviveAStandbyKillAndAPrimaryKillWithPromotion() throws Exception {
        Board b1 = board("b1");
        Board b2 = board("b2");
        Process primary = start(b1, b2, "primary");
        Process standby = start(b2, b1, "standby");
        List<AppendResult> acked = new ArrayList<>();
        try (RingStoreClient p = connect(b1)) {
            acked.addAll(append(p, "sensor", 150));
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
                assertEquals("standby", status(s).getReplicationRole());
            }
            kill(standby);
            // No silent fallback: with the standby gone an append waits (bounded), then fails
            // typed; it is in the primary's log but not readable, and a retry with the same id
            // learns its fate once a standby holds it.
            byte[] id = new byte[EventData.EVENT_ID_LENGTH];
            id[0] = 42;
            EventData unheld = new EventData(id, "reading", "while the standby is down".getBytes(StandardCharsets.UTF_8), null);
            java.util.concurrent.ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> p.append("sensor", ExpectedVersion.exactly(149), List.of(unheld)).get(30, TimeUnit.SECONDS));
            assertEquals(io.ringstore.error.ErrorCode.REPLICA_UNAVAILABLE,
                    ((io.ringstore.error.RingStoreException) refused.getCause()).code(), refused.toString());
            assertEquals(0, p.readStream("sensor", 150, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS)
                    .events().size(), "an append no standby holds is not readable");
            // The operator lets the primary go on alone, explicitly; the answers say so.
            assertTrue(p.setSolo(true).get(10, TimeUnit.SECONDS).getSolo());
            List<AppendResult> solo = append(p, "sensor", 150); // while the standby is down
            assertEquals(io.ringstore.replication.AckMode.LOCAL, solo.getLast().ackMode(), "solo answers say local");
            acked.addAll(solo);
            standby = start(b2, b1, "standby");
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
            }
            assertTrue(!p.setSolo(false).get(10, TimeUnit.SECONDS).getSolo());
            AppendResult retried = p.append("sensor", ExpectedVersion.exactly(149), List.of(unheld)).get(30, TimeUnit.SECONDS);
            assertTrue(retried.replayed(), "the retry of the unheld append is answered as a replay");
            assertEquals(150, retried.firstVersion());
            acked.add(retried);
            acked.addAll(append(p, "other", 100));
            try (RingStoreClient s = connect(b2)) {
                awaitStandbyHolds(p, s);
            }
        }
        kill(primary);

        try (RingStoreClient s = connect(b2)) {
            PromoteResponse promoted = s.promote(false).get(30, TimeUnit.SECONDS);
            assertEquals(1, promoted.getEpoch());
            assertTrue(promoted.getMessage().startsWith("safe"), promoted.getMessage());
            for (AppendResult a : acked) {
                List<RecordedEvent> events = s.readStream(a.stream(), a.firstVersion(), 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS).events();
                assertEquals(1, events.size(), "acknowledged " + a.stream() + "@" + a.firstVersion() + " is on the promoted board");
                assertEquals(a.firstPosition(), events.getFirst().position());
            }
            assertEquals("primary", status(s).getReplicationRole());

            // The old primary comes back configured as primary: it finds epoch 1 on b2 and follows
            // it; the new primary (replica-memory) acknowledges again once its standby holds.
            Process oldPrimary = start(b1, b2, "primary");
            try (RingStoreClient old = connect(b1)) {
                long end = status(s).getCommittedPosition();
                await("the old primary follows the new one", () -> {
                    StatusResponse st = status(old);
                    return st.getReplicationRole().equals("standby") && st.getCommittedPosition() >= end;
                });
                assertEquals(1, status(old).getEpoch());
                AppendResult after = s.append("sensor", ExpectedVersion.exactly(300),
                        List.of(EventData.of("reading", new byte[] {1}))).get(30, TimeUnit.SECONDS);
                assertEquals(301, after.firstVersion());
                assertEquals(io.ringstore.replication.AckMode.REPLICA_MEMORY, after.ackMode());
                await("the old primary holds the new primary's append", () -> status(old).getCommittedPosition() > after.lastPosition());
                assertEquals(301, old.readStream("sensor", 301, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS).events().getFirst().version());
            }
            // Killed again, now as the standby it became, and restarted still configured as primary
            // (as a board whose role file says primary after a promotion is): it holds epoch 1
            // itself by now, so the peer's epoch is no longer newer; it must still follow (its role
            // file says so), not open as a second primary of epoch 1 (the nemesis found that).
            kill(oldPrimary);
            start(b1, b2, "primary");
            try (RingStoreClient old = connect(b1)) {
                await("the twice-restarted old primary follows again", () -> {
                    StatusResponse st = status(old);
                    return st.getReplicationRole().equals("standby") && st.getCommittedPosition() >= status(s).getCommittedPosition();
                });
                AppendResult again = s.append("sensor", ExpectedVersion.exactly(301),
                        List.of(EventData.of("reading", new byte[] {2}))).get(30, TimeUnit.SECONDS);
                assertEquals(io.ringstore.replication.AckMode.REPLICA_MEMORY, again.ackMode());
                assertEquals("standby", status(old).getReplicationRole());
            }
        }
    }

    @Test
    void aLivePrimaryFencedByAPromotionRejoinsAsAStandbyWithoutARestart() throws Exception {
        Board b1 = board("b1");
        Board b2 = board("b2");
        Process primary = start(b1, b2, "primary", "local");
        start(b2, b1, "standby", "local");
        try (RingStoreClient p = connect(b1); RingStoreClient s = connect(b2)) {
            append(p, "door", 50);
            awaitStandbyHolds(p, s);
            Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> s.promote(false).get(30, TimeUnit.SECONDS));
            assertTrue(String.valueOf(refused.getCause()).contains("acknowledged locally"), String.valueOf(refused.getCause()));
            assertEquals(1, s.promote(true).get(30, TimeUnit.SECONDS).getEpoch());
            append(s, "door", 10);
        }
        long pid = primary.pid();
        await("the old primary rejoined as a standby", () -> {
            StatusResponse st = freshStatus(b1);
            return st != null && st.getReplicationRole().equals("standby") && st.getEpoch() == 1;
        });
        assertTrue(primary.isAlive(), "rejoined in the same process");
        assertEquals(pid, primary.pid());
        try (RingStoreClient s = connect(b2); RingStoreClient old = connect(b1)) {
            long end = status(s).getCommittedPosition();
            await("the old primary caught up", () -> status(old).getCommittedPosition() >= end);
            assertEquals(59, old.readStream("door", 59, 1, io.ringstore.read.Direction.FORWARD).get(10, TimeUnit.SECONDS)
                    .events().getFirst().version());
            Exception notPrimary = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> old.append("door",
                    ExpectedVersion.ANY, List.of(EventData.of("x", new byte[] {1}))).get(10, TimeUnit.SECONDS));
            assertTrue(String.valueOf(notPrimary.getCause()).contains("standby"), String.valueOf(notPrimary.getCause()));
        }
    }
}
