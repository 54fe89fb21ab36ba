package io.ringstore.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.consensus.BeatSeen;
import io.ringstore.consensus.BoardBeat;
import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The controller's rule, {@link Controller#decide}, on the beats a leader could see. */
class ControllerTest {
    private static final FailoverOptions O = FailoverOptions.DEFAULTS; // failover after 6000 ms, W 3880 ms

    private static BeatSeen primary(String b, long epoch, long held, long age) {
        return new BeatSeen(new BoardBeat(b, "primary", epoch, held, held, false, "this board is the primary", 1), age);
    }

    private static BeatSeen standby(String b, long epoch, long held, long age, String notPromotable) {
        return new BeatSeen(new BoardBeat(b, "standby", epoch, held, held, notPromotable == null,
                notPromotable == null ? "" : notPromotable, 1), age);
    }

    private static Map<String, BeatSeen> beats(BeatSeen... s) {
        Map<String, BeatSeen> m = new LinkedHashMap<>();
        for (BeatSeen b : s) {
            m.put(b.beat().board(), b);
        }
        return m;
    }

    private static GroupState state(long epoch, String primary, String... inSync) {
        return new GroupState(epoch, primary, List.of(inSync), 7);
    }

    @Test
    void bootstrapAdoptsTheBoardThatSaysPrimaryInTheHighestEpoch() {
        Controller.Decision d = Controller.decide(GroupState.INITIAL, beats(primary("b1", 3, 100, 10),
                primary("b2", 4, 50, 10), standby("b3", 4, 500, 10, null)), 10_000, 10_000, null, O);
        assertEquals(new GroupChange.NewPrimary(0, 4, "b2", List.of("b2")), d.change(), d.why());
        // A log that never changed primary is in epoch 0: the group calls it 1.
        d = Controller.decide(GroupState.INITIAL, beats(primary("b1", 0, 100, 10)), 10_000, 10_000, null, O);
        assertEquals(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1")), d.change());
        // A stale claim is not adopted.
        d = Controller.decide(GroupState.INITIAL, beats(primary("b1", 1, 100, 7_000)), 10_000, 10_000, null, O);
        assertNull(d.change(), d.why());
    }

    @Test
    void aLivePrimaryIsLeftAlone() {
        Controller.Decision d = Controller.decide(state(2, "b1", "b1", "b2"), beats(primary("b1", 2, 100, 5_900),
                standby("b2", 2, 100, 10, null)), 60_000, 60_000, null, O);
        assertNull(d.change());
        assertTrue(d.why().contains("alive"), d.why());
    }

    @Test
    void aSilentPrimaryIsReplacedByTheInSyncPromotableStandbyHoldingMost() {
        GroupState s = state(2, "b1", "b1", "b2", "b3");
        Controller.Decision d = Controller.decide(s, beats(primary("b1", 2, 900, 6_000),
                standby("b2", 2, 800, 100, null), standby("b3", 2, 850, 100, null)), 60_000, 60_000, null, O);
        assertEquals(new GroupChange.NewPrimary(2, 3, "b3", List.of("b3")), d.change(), d.why());
        assertTrue(d.why().contains("silent for 6000 ms"), d.why());
    }

    @Test
    void onlyInSyncFreshPromotableStandbysOfTheEpochAreCandidates() {
        GroupState s = state(5, "b1", "b1", "b2", "b3");
        Map<String, BeatSeen> b = beats(primary("b1", 5, 900, 9_000),
                standby("b2", 5, 990, 100, "this board has not been in contact with a primary since it started"),
                standby("b3", 5, 990, 6_500, null),
                standby("b4", 5, 999, 100, null));
        Controller.Decision d = Controller.decide(s, b, 60_000, 60_000, null, O);
        assertNull(d.change(), "the restarted standby, the stale one and the one outside the in-sync set: none");
        assertTrue(d.why().contains("b2: not promotable: this board has not been in contact"), d.why());
        assertTrue(d.why().contains("b3: beat 6500 ms old"), d.why());
        assertTrue(d.why().contains("b4: not in the in-sync set"), d.why());
        // A standby still in an older epoch (it has not followed the current primary) is not one either.
        d = Controller.decide(state(5, "b1", "b1", "b2"), beats(standby("b2", 4, 990, 100, null)), 60_000, 60_000, null, O);
        assertNull(d.change());
        assertTrue(d.why().contains("in epoch 4, not 5"), d.why());
    }

    @Test
    void theNewEpochIsAboveEveryEpochSeen() {
        GroupState s = state(5, "b1", "b1", "b2");
        Controller.Decision d = Controller.decide(s, beats(standby("b2", 5, 10, 10, null), primary("b3", 9, 0, 10)),
                60_000, 60_000, null, O);
        assertEquals(new GroupChange.NewPrimary(5, 10, "b2", List.of("b2")), d.change(), d.why());
    }

    @Test
    void aNewLeaderThatHasNotHeardThePrimaryWaitsTheFailoverTimeFromWhenItLeads() {
        GroupState s = state(2, "b1", "b1", "b2");
        Map<String, BeatSeen> b = beats(standby("b2", 2, 10, 10, null));
        assertNull(Controller.decide(s, b, 5_999, 60_000, null, O).change());
        assertEquals("b2", ((GroupChange.NewPrimary) Controller.decide(s, b, 6_000, 60_000, null, O).change()).board());
    }

    @Test
    void aChosenPrimaryGetsWPlusTheFailoverTimeToTakeOverThenAnotherIsChosenFromTheSetBefore() {
        // b2 was chosen for epoch 3; it still beats as a standby in epoch 2 while it waits W.
        GroupState s = state(3, "b2", "b2");
        Map<String, BeatSeen> b = beats(standby("b2", 2, 500, 10, "promotion into epoch 3 refused: not safe"),
                standby("b3", 2, 400, 10, null), primary("b1", 2, 600, 9_000));
        Controller.Previous before = new Controller.Previous(2, List.of("b1", "b2", "b3"));
        Controller.Decision d = Controller.decide(s, b, 60_000, 9_879, before, O);
        assertNull(d.change(), d.why());
        assertTrue(d.why().contains("taking over"), d.why());
        d = Controller.decide(s, b, 60_000, 9_880, before, O);
        assertEquals(new GroupChange.NewPrimary(3, 4, "b3", List.of("b3")), d.change(), d.why());
        assertTrue(d.why().contains("did not take over"), d.why());
        // A leader that did not see the set before chooses nobody.
        d = Controller.decide(s, b, 60_000, 9_880, null, O);
        assertNull(d.change(), d.why());
        // Once it says primary in the epoch it is alive.
        d = Controller.decide(s, beats(primary("b2", 3, 500, 10)), 60_000, 60_000, before, O);
        assertNull(d.change());
        assertTrue(d.why().contains("alive"), d.why());
    }
}
