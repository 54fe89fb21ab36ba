package io.ringstore.failover;

import static io.ringstore.failover.FailoverBoards.await;
import static io.ringstore.failover.FailoverBoards.event;
import static io.ringstore.failover.FailoverBoards.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.consensus.GroupState;
import io.ringstore.replication.Role;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic failover with real stores, real voter groups over loopback and real sockets: three
 * data boards, each a voter.
 */
@Timeout(60)
class FailoverTest {
    @TempDir
    Path dir;

    /** Appends one event to whichever board acknowledges it; returns the board's index, or -1. */
    private static int appendAnywhere(FailoverBoards b, int n) {
        for (int i = 0; i < b.count; i++) {
            RingStore s = b.stores[i];
            if (s == null || s.replication().role() != Role.PRIMARY || !s.replication().acknowledging()) {
                continue;
            }
            try {
                s.append("sensor", ExpectedVersion.ANY, List.of(event(n))).get(3, TimeUnit.SECONDS);
                return i;
            } catch (Exception e) {
                // not acknowledged there (NO_QUORUM while the lease is not yet valid): try again
            }
        }
        return -1;
    }

    @Test
    void whenThePrimaryIsGoneAnInSyncStandbyTakesOverInTheNextEpochWithEveryAcknowledgedEvent() throws Exception {
        int runs = Integer.getInteger("ringstore.failover.runs", 1);
        for (int run = 0; run < runs; run++) {
            try (FailoverBoards b = new FailoverBoards(dir.resolve("run" + run), 3, new boolean[3], false, false)) {
                for (int i = 0; i < 3; i++) {
                    b.startVoter(i);
                }
                b.startBoard(0, Role.PRIMARY);
                b.startBoard(1, Role.STANDBY);
                b.startBoard(2, Role.STANDBY);
                await("the group adopts b1 and both standbys rejoin the in-sync set", 15_000, () -> {
                    GroupState s = b.newest();
                    return s.epoch() == 1 && s.primary().equals("b1") && s.inSync().size() == 3;
                });
                List<String> acked = new ArrayList<>();
                for (int n = 0; n < 40; n++) {
                    AppendResult r = b.stores[0].append("sensor", ExpectedVersion.ANY, List.of(event(n))).join();
                    assertEquals(io.ringstore.replication.AckMode.REPLICA_MEMORY, r.ackMode());
                    acked.add(id(n));
                }
                long closedAt = System.nanoTime();
                b.stopBoard(0);
                b.stopVoter(0);
                int at;
                int n = 1_000;
                while ((at = appendAnywhere(b, n)) < 0) {
                    assertTrue(System.nanoTime() - closedAt < 30_000_000_000L, "no board acknowledged within 30 s");
                    Thread.sleep(20);
                }
                acked.add(id(n));
                long tookMillis = (System.nanoTime() - closedAt) / 1_000_000;
                RingStore primary = b.stores[at];
                GroupState s = b.newest();
                System.out.println("failover run " + run + ": primary closed -> first acknowledged append on "
                        + b.names[at] + " in " + tookMillis + " ms (epoch " + s.epoch() + "; W "
                        + b.failovers[at].takeoverWaitMillis() + " ms, failover_after "
                        + FailoverBoards.OPTIONS.failoverAfterMillis() + " ms)");
                assertEquals(2, s.epoch(), "the next epoch");
                assertEquals(b.names[at], s.primary());
                assertEquals(2, primary.replication().history().currentEpoch(), "promoted into the group's epoch");
                List<String> held = FailoverBoards.eventIds(primary);
                assertTrue(held.containsAll(acked), "every acknowledged event is on the new primary");
                // The other standby follows the new primary and gets the new event.
                int other = at == 1 ? 2 : 1;
                await("the other standby follows " + b.names[at], 15_000,
                        () -> FailoverBoards.eventIds(b.stores[other]).contains(id(1_000)));
            }
        }
    }
}
