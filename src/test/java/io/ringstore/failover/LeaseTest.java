package io.ringstore.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The lease's arithmetic and its gate, as the ack path sees it. */
class LeaseTest {
    private static final long MS = 1_000_000L;

    @Test
    void takeoverWaitIsLeaseTimesDriftSquaredPlusMargin() {
        // 3000 * 1.1^2 = 3630, + 250
        assertEquals(3_880 * MS, Lease.takeoverWaitNanos(3_000 * MS, 10, 250 * MS));
        assertEquals(600 * MS, Lease.takeoverWaitNanos(600 * MS, 0, 0));
        // 600 * 1.21 = 726, + the default margin 250
        assertEquals(976 * MS, FailoverOptions.DEFAULTS.withLease(600).takeoverWaitNanos());
        // Rounded up, never down: 1 ns * 1.21 is 2 ns.
        assertEquals(2, Lease.takeoverWaitNanos(1, 10, 0));
    }

    @Test
    void aLeaseRunsFromWhenTheBeatWasSentAndSurvivesNanoTimeWrapping() {
        long sent = Long.MAX_VALUE - 10;
        long until = Lease.grantedUntil(sent, 100);
        assertTrue(Lease.holds(until, sent + 50), "50 ns after sending, across the wrap of nanoTime");
        assertFalse(Lease.holds(until, sent + 100), "ends exactly lease after the send");
        assertFalse(Lease.holds(until, sent + 1_000));
    }

    @Test
    void theGateOpensOnAGrantClosesWhenTheLeaseRunsOutAndOnRevoke() throws InterruptedException {
        Lease lease = new Lease(() -> "voters unreachable: w");
        assertFalse(lease.open(), "no lease before any answer");
        assertEquals("voters unreachable: w", lease.closedReason());
        long sent = System.nanoTime();
        lease.grant(3, sent, 300 * MS);
        assertTrue(lease.open());
        assertTrue(lease.remainingMillis() > 200 && lease.remainingMillis() <= 300, "remaining " + lease.remainingMillis());
        // An older answer arriving late does not move the end back.
        lease.grant(3, sent - 200 * MS, 300 * MS);
        assertTrue(lease.remainingMillis() > 200, "remaining " + lease.remainingMillis());
        long waitUntil = sent + 300 * MS;
        while (System.nanoTime() - waitUntil < 0) {
            Thread.sleep(5);
        }
        assertFalse(lease.open(), "lapsed at sent + lease");
        long t0 = System.nanoTime();
        assertFalse(lease.awaitOpen(50 * MS), "nobody renews it");
        assertTrue(System.nanoTime() - t0 >= 50 * MS);
        lease.grant(3, System.nanoTime(), 10_000 * MS);
        assertTrue(lease.open());
        lease.revoke();
        assertFalse(lease.open(), "revoked: the group named another primary");
        assertEquals(0, lease.remainingMillis());
    }

    @Test
    void aWaiterIsWokenByTheGrant() throws Exception {
        Lease lease = new Lease(() -> "");
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            lease.grant(1, System.nanoTime(), 5_000 * MS);
        });
        long t0 = System.nanoTime();
        assertTrue(lease.awaitOpen(2_000 * MS));
        assertTrue(System.nanoTime() - t0 < 1_000 * MS, "woken by the grant, not by the timeout");
        t.join();
    }

    @Test
    void optionsRefuseADropTimeAtOrAboveTheAckTimeout() {
        FailoverOptions o = FailoverOptions.DEFAULTS;
        o.checkAgainst(5_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.checkAgainst(3_000));
        assertTrue(e.getMessage().contains("insync_drop_after_ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FailoverOptions(3_000, 10, 250, 900, 3_000, 10_000),
                "failover after one beat interval would promote on jitter");
    }
}
