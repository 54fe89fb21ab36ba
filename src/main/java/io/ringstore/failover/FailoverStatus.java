package io.ringstore.failover;

import java.util.List;
import java.util.Map;

/**
 * Automatic failover as status shows it, on a data board.
 *
 * @param board              this board
 * @param role               as its beat says: primary, fenced or standby
 * @param epoch              this board's epoch as the group counts it (a log that never changed
 *                           primary is in epoch 0, which the group calls 1)
 * @param groupEpoch         the newest committed epoch this board knows
 * @param groupPrimary       the primary the group names in it ("" before any)
 * @param leader             the group's leader ("" unknown)
 * @param votersReachable    per other voter, heard from recently
 * @param inSync             the committed in-sync set (the primary included)
 * @param ackWaitsFor        the standbys acknowledgements wait for now (a primary; the in-sync set
 *                           less itself, plus standbys being added)
 * @param leaseValid         whether this board may acknowledge now
 * @param leaseRemainingMillis how long its lease still runs
 * @param promotable         a standby: whether it could take over without losing acknowledged events
 * @param notPromotableBecause why not ("" when it can)
 * @param lastDecision       this board's last failover decision (promotion, fencing, following,
 *                           in-sync change, lease lost/regained) or the controller's, if newer
 * @param lastDecisionAgeMillis how long ago
 * @param noQuorumFailures   batches failed with NO_QUORUM since start
 */
public record FailoverStatus(String board, String role, long epoch, long groupEpoch, String groupPrimary, String leader,
                             Map<String, Boolean> votersReachable, List<String> inSync, List<String> ackWaitsFor,
                             boolean leaseValid, long leaseRemainingMillis, boolean promotable,
                             String notPromotableBecause, String lastDecision, long lastDecisionAgeMillis,
                             long noQuorumFailures) {
    /** As the protocol's StatusResponse.failover carries it. */
    public io.ringstore.protocol.v1.FailoverStatus toProto() {
        return io.ringstore.protocol.v1.FailoverStatus.newBuilder().setRole(role).setEpoch(epoch).setGroupEpoch(groupEpoch)
                .setGroupPrimary(groupPrimary).setLeader(leader).putAllVotersReachable(votersReachable).addAllInSync(inSync)
                .addAllAckWaitsFor(ackWaitsFor).setLeaseValid(leaseValid).setLeaseRemainingMillis(leaseRemainingMillis)
                .setPromotable(promotable).setNotPromotableBecause(notPromotableBecause).setLastDecision(lastDecision)
                .setLastDecisionAgeMillis(lastDecisionAgeMillis).setNoQuorumFailures(noQuorumFailures).build();
    }

    /** One line for the journal and the status line: {@code failover: primary epoch=2 leader=w lease=2400ms in_sync=[b1,b2] voters_unreachable=[]}. */
    public String describe() {
        List<String> unreachable = votersReachable.entrySet().stream().filter(e -> !e.getValue()).map(Map.Entry::getKey)
                .sorted().toList();
        return "failover: " + role + " epoch=" + epoch + " leader=" + (leader.isEmpty() ? "unknown" : leader)
                + (role.equals("primary") ? " lease=" + (leaseValid ? leaseRemainingMillis + "ms" : "none") : "")
                + " in_sync=" + inSync + " voters_unreachable=" + unreachable;
    }
}
