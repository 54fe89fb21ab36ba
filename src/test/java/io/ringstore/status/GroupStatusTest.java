package io.ringstore.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.consensus.GroupState;
import io.ringstore.protocol.v1.StatusResponse;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The group as status, the status line and the lights show it, from a group whose answers the test sets. */
class GroupStatusTest {
    private String leader = "";
    private final Map<String, Boolean> reachable = new LinkedHashMap<>(Map.of("a", false, "b", false));
    private GroupState committed = GroupState.INITIAL;

    private GroupStatus status() {
        Map<String, InetSocketAddress> voters = new LinkedHashMap<>();
        voters.put("a", InetSocketAddress.createUnresolved("192.168.1.10", 7412));
        voters.put("b", InetSocketAddress.createUnresolved("192.168.1.11", 7412));
        voters.put("w", InetSocketAddress.createUnresolved("fe80::1", 7412));
        return new GroupStatus("w", voters, new GroupStatus.Source() {
            @Override
            public String leader() {
                return leader;
            }

            @Override
            public Map<String, Boolean> reachable() {
                return Map.copyOf(reachable);
            }

            @Override
            public GroupState committed() {
                return committed;
            }
        });
    }

    @Test
    void aloneThenJoinedThenLosingOne() {
        GroupStatus g = status();
        assertFalse(g.tick(), "the first tick is the baseline");
        assertEquals("group=no-leader voters=1/3 NO_MAJORITY epoch=0 primary=none in_sync=none", g.describe());
        assertEquals(LedSignals.Replica.DEGRADED, g.replicaLight());

        reachable.put("a", true);
        reachable.put("b", true);
        leader = "a";
        committed = new GroupState(2, "a", List.of("a", "b"), 7);
        assertTrue(g.tick(), "voters, majority, leader and epoch changed");
        assertFalse(g.tick(), "nothing changed since");
        assertEquals("group=leader:a voters=3/3 epoch=2 primary=a in_sync=a,b", g.describe());
        assertEquals(LedSignals.Replica.IN_SYNC, g.replicaLight());

        StatusResponse.Builder b = StatusResponse.newBuilder();
        g.fill(b);
        assertEquals("w", b.getGroupBoard());
        assertEquals("a", b.getGroupLeader());
        assertEquals(3, b.getVotersReachable());
        assertEquals(3, b.getVotersTotal());
        assertEquals(List.of("a 192.168.1.10:7412 reachable leader", "b 192.168.1.11:7412 reachable",
                "w [fe80::1]:7412 self"), b.getVotersList());
        assertEquals(2, b.getGroupEpoch());
        assertEquals("a", b.getGroupPrimary());
        assertEquals("192.168.1.10:7412", b.getGroupPrimaryAddress());
        assertEquals(List.of("a", "b"), b.getInSyncList());
        assertEquals(7, b.getGroupIndex());

        reachable.put("b", false);
        assertTrue(g.tick(), "a voter lost");
        assertTrue(g.view().majority(), "two of three is a majority");
        assertEquals(LedSignals.Replica.DEGRADED, g.replicaLight());
        reachable.put("a", false);
        leader = "";
        assertTrue(g.tick());
        assertFalse(g.view().majority());
        assertEquals("group=no-leader voters=1/3 NO_MAJORITY epoch=2 primary=a in_sync=a,b", g.describe());
    }
}
