package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StandbyProgressTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void heldIsTheLowestOfTheRequiredStandbysAndMinusOneWhileOneIsMissing() {
        StandbyProgress p = new StandbyProgress(List.of("b2", "b3"), 60_000, now::get);
        assertEquals(-1, p.held(AckMode.REPLICA_MEMORY));
        assertTrue(p.lagReason().contains("b2 has not connected"), p.lagReason());
        long c2 = p.connected("b2", 100, 100);
        long c3 = p.connected("b3", 100, 100);
        p.report("b2", c2, 500, 300);
        p.report("b3", c3, 400, 350);
        assertEquals(400, p.held(AckMode.REPLICA_MEMORY));
        assertEquals(300, p.held(AckMode.REPLICA_DURABLE));
        assertEquals("", p.lagReason());

        now.addAndGet(4_000_000_000L);
        p.disconnected("b3", c3, "connection reset");
        assertEquals(-1, p.held(AckMode.REPLICA_MEMORY), "no silent fallback to the standbys still there");
        assertTrue(p.lagReason().contains("standby b3 disconnected 0 s ago (connection reset)"), p.lagReason());
        // A report or a disconnect from an older connection of the same standby changes nothing.
        long again = p.connected("b3", 400, 350);
        p.disconnected("b3", c3, "late close of the old connection");
        p.report("b3", c3, 1, 1);
        assertEquals(400, p.held(AckMode.REPLICA_MEMORY));
        p.report("b3", again, 600, 600);
        assertEquals(500, p.held(AckMode.REPLICA_MEMORY));
    }

    @Test
    void awaitHeldWakesOnAReportAndTimesOut() throws Exception {
        StandbyProgress p = new StandbyProgress(List.of("b2"), 60_000, System::nanoTime);
        long c = p.connected("b2", 0, 0);
        assertFalse(p.awaitHeld(AckMode.REPLICA_MEMORY, 10, TimeUnit.MILLISECONDS.toNanos(20)));
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return p.awaitHeld(AckMode.REPLICA_DURABLE, 10, TimeUnit.SECONDS.toNanos(10));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        p.report("b2", c, 10, 5);
        assertFalse(waiting.isDone() && waiting.join(), "durable 5 is not 10");
        p.report("b2", c, 10, 10);
        assertTrue(waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aStandbyHoldsRetentionBackUntilItHasBeenGoneForItsHoldTime() {
        StandbyProgress p = new StandbyProgress(List.of("b2"), 10_000, now::get);
        assertEquals(Long.MAX_VALUE, p.reclaimFloor(), "nobody to keep segments for");
        long c = p.connected("b2", 5000, 4000);
        assertEquals(4000, p.reclaimFloor());
        p.disconnected("b2", c, "gone");
        now.addAndGet(9_000_000_000L);
        assertEquals(4000, p.reclaimFloor());
        now.addAndGet(1_000_000_000L);
        assertEquals(Long.MAX_VALUE, p.reclaimFloor(), "held back for its hold time only");
    }
}
