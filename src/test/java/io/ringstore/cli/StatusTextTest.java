package io.ringstore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ringstore.protocol.v1.StatusResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code ringstore status --text}: the group as a person reads it, on a witness and on a data board. */
class StatusTextTest {
    @Test
    void aWitnessShowsItsGroupAndNoStore() {
        StatusResponse s = StatusResponse.newBuilder().setReplicationRole("witness").setGroupBoard("w")
                .setGroupLeader("a").setVotersReachable(2).setVotersTotal(3).setGroupEpoch(4).setGroupPrimary("a")
                .setGroupPrimaryAddress("192.168.1.10:7412").addAllInSync(List.of("a", "b"))
                .addAllVoters(List.of("a 192.168.1.10:7412 reachable leader", "b 192.168.1.11:7412 unreachable",
                        "w 192.168.1.12:7412 self"))
                .setLedWrite("off").setLedLag("off").setLedFault("off").setLedReplica("fast_blink").build();
        assertEquals("""
                role: witness
                group: board w, leader a, voters 2/3 reachable
                committed: epoch 4, primary a at 192.168.1.10:7412, in sync a,b
                  voter a 192.168.1.10:7412 reachable leader
                  voter b 192.168.1.11:7412 unreachable
                  voter w 192.168.1.12:7412 self
                leds: write off, lag off, fault off, replica fast_blink (not driven on this board)
                """, StatusCommand.text(s));
    }

    @Test
    void aBoardWithoutMajoritySaysSo() {
        StatusResponse s = StatusResponse.newBuilder().setReplicationRole("primary").setEpoch(2).setGroupBoard("a")
                .setVotersReachable(1).setVotersTotal(3).setCommittedPosition(64).setSplitterState("running")
                .setLedWrite("off").setLedLag("off").setLedFault("on").setLedsEnabled(true).build();
        assertEquals("""
                role: primary, epoch 2
                group: board a, leader none known, voters 1/3 reachable (NO MAJORITY)
                committed: epoch 0, primary none yet, in sync none
                store: committed_position 64, streams 0, events_appended 0, splitter running (lag 0 events), ack local
                leds: write off, lag off, fault on
                """, StatusCommand.text(s));
    }
}
