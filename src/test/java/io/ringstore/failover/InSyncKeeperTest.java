package io.ringstore.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The primary's in-sync rules: drop only through a commit, add back only after a steady spell. */
class InSyncKeeperTest {
    private static final long MS = 1_000_000L;
    /** Drop after 3000 ms, rejoin after 10000 ms. */
    private final InSyncKeeper k = new InSyncKeeper("b1", FailoverOptions.DEFAULTS);

    private static GroupState state(String... inSync) {
        return new GroupState(2, "b1", List.of(inSync), 5);
    }

    @Test
    void aStandbyBehindAWaitingBatchIsDroppedOnlyThroughTheGroup() {
        GroupState s = state("b1", "b2", "b3");
        InSyncKeeper.Step st = k.step(0, s, 1_000, Map.of("b2", 1_000L, "b3", -1L), true);
        assertEquals(Set.of("b2", "b3"), st.required());
        assertNull(st.proposal());
        st = k.step(2_999 * MS, s, 1_200, Map.of("b2", 1_200L, "b3", -1L), true);
        assertNull(st.proposal(), "not yet: 2999 ms");
        st = k.step(3_000 * MS, s, 1_300, Map.of("b2", 1_300L, "b3", -1L), true);
        assertEquals(new GroupChange.SetInSync(2, "b1", List.of("b1", "b2"), 5), st.proposal(), st.why());
        assertEquals(Set.of("b2", "b3"), st.required(), "still waited for until the change is committed");
        assertTrue(st.why().contains("b3 holds -1, not 1000, for 3000 ms"), st.why());
        // The group answered with the change applied; the next step, on that state, waits for b2 alone.
        k.applied(st.proposal(), state("b1", "b2"));
        st = k.step(3_050 * MS, state("b1", "b2"), 1_300, Map.of("b2", 1_300L, "b3", -1L), true);
        assertEquals(Set.of("b2"), st.required());
        assertNull(st.proposal());
    }

    @Test
    void aStandbyThatCatchesUpInTimeStaysAndNothingWaitingDropsNobody() {
        GroupState s = state("b1", "b2");
        k.step(0, s, 1_000, Map.of("b2", 500L), true);
        InSyncKeeper.Step st = k.step(2_000 * MS, s, 2_000, Map.of("b2", 1_000L), true);
        assertNull(st.proposal(), "held the marked position in time");
        st = k.step(4_000 * MS, s, 3_000, Map.of("b2", 1_500L), true);
        assertNull(st.proposal(), "marked again at 2000 ms (position 2000): not 3000 ms yet");
        st = k.step(5_000 * MS, s, 3_000, Map.of("b2", 1_900L), true);
        assertTrue(st.proposal() != null, "3000 ms behind position 2000");
        // Disconnected but nothing waits: stays in.
        InSyncKeeper idle = new InSyncKeeper("b1", FailoverOptions.DEFAULTS);
        for (long t = 0; t < 20_000; t += 500) {
            assertNull(idle.step(t * MS, s, 1_000, Map.of("b2", -1L), false).proposal());
        }
    }

    @Test
    void aStandbyRejoinsOnlyAfterBeingCaughtUpWithoutABreakAndIsRequiredBeforeItIsProposed() {
        GroupState s = state("b1");
        long written = 1_000;
        InSyncKeeper.Step st = null;
        // Caught up for 9.5 s, then a flap (disconnected) resets the spell.
        for (long t = 0; t <= 9_500; t += 500) {
            st = k.step(t * MS, s, written, Map.of("b2", written), false);
            assertNull(st.proposal(), "t=" + t);
            assertEquals(Set.of(), st.required());
        }
        assertNull(k.step(9_600 * MS, s, written, Map.of("b2", -1L), false).proposal());
        for (long t = 10_000; t < 20_000; t += 500) {
            assertNull(k.step(t * MS, s, written, Map.of("b2", written), false).proposal(), "t=" + t);
        }
        st = k.step(20_000 * MS, s, written, Map.of("b2", written), false);
        assertEquals(new GroupChange.SetInSync(2, "b1", List.of("b1", "b2"), 5), st.proposal(), st.why());
        assertEquals(Set.of("b2"), st.required(), "required first, then proposed");
        // The proposal's fate is unknown (timed out): it stays required, and is proposed again.
        st = k.step(20_500 * MS, s, written, Map.of("b2", written), false);
        assertEquals(Set.of("b2"), st.required());
        assertEquals(new GroupChange.SetInSync(2, "b1", List.of("b1", "b2"), 5), st.proposal(), st.why());
        // Committed: a member now.
        st = k.step(21_000 * MS, state("b1", "b2"), written, Map.of("b2", written), false);
        assertEquals(Set.of("b2"), st.required());
    }

    @Test
    void caughtUpMeansHoldingWhatWasWrittenAStepEarlier() {
        GroupState s = state("b1");
        // Always one batch behind the current written position, never behind the previous one.
        long t = 0;
        InSyncKeeper.Step st = null;
        // The first step has no earlier position to compare with: the spell starts at the second.
        for (long w = 1_000; t <= 10_250; t += 250, w += 100) {
            st = k.step(t * MS, s, w, Map.of("b2", w - 100), false);
        }
        assertTrue(st.proposal() != null, "a standby that keeps up with a busy primary rejoins");
    }
    /**
     * Under sustained appends a standby that keeps up is always somewhat behind, by more than one
     * 50 ms step at times: within a third of insync_drop_after_ms (1 s) of the primary's writes it
     * rejoins; further behind it stays out.
     */
    @Test
    void aStandbyAFewHundredMillisecondsBehindABusyPrimaryRejoinsOneASecondAndAHalfBehindDoesNot() {
        GroupState s = state("b1");
        InSyncKeeper close = new InSyncKeeper("b1", FailoverOptions.DEFAULTS);
        InSyncKeeper far = new InSyncKeeper("b1", FailoverOptions.DEFAULTS);
        long perMs = 2_000; // 2 MB/s written
        InSyncKeeper.Step c = null;
        InSyncKeeper.Step f = null;
        for (long t = 0; t <= 12_000; t += 50) {
            long written = t * perMs;
            // 200-700 ms behind, varying (a hiccup now and then), never more.
            long closeLag = (200 + (t * 7919 % 500)) * perMs;
            c = close.step(t * MS, s, written, Map.of("b2", Math.max(0, written - closeLag)), false);
            f = far.step(t * MS, s, written, Map.of("b2", Math.max(0, written - 1_500 * perMs)), false);
            if (c.proposal() != null) {
                break;
            }
            assertNull(f.proposal(), "t=" + t + ": " + f.why());
        }
        assertTrue(c.proposal() != null && c.proposal().inSync().contains("b2"), "the close standby rejoins: " + c.why());
        assertEquals(Set.of("b2"), c.required());
        assertNull(f.proposal());
    }
}
