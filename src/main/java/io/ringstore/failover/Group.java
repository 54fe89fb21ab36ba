package io.ringstore.failover;

import io.ringstore.consensus.BeatSeen;
import io.ringstore.consensus.BoardBeat;
import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import io.ringstore.consensus.VoterGroup;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * What failover asks of the voter group: {@link VoterGroup}'s methods, as an interface so that
 * the decisions can be driven in a test without a network (the integration tests use real
 * groups over loopback).
 */
public interface Group {
    GroupState committed();

    CompletableFuture<GroupState> propose(GroupChange change);

    CompletableFuture<GroupState> beat(BoardBeat beat);

    /** See {@link VoterGroup#readAsLeader}. */
    CompletableFuture<GroupState> readAsLeader();

    boolean isLeader();

    String leader();

    Map<String, BeatSeen> beatsSeen();

    Map<String, Boolean> votersReachable();

    void onApplied(Consumer<GroupState> listener);

    /** The real group. */
    static Group of(VoterGroup g) {
        return new Group() {
            @Override
            public GroupState committed() {
                return g.committed();
            }

            @Override
            public CompletableFuture<GroupState> propose(GroupChange change) {
                return g.propose(change);
            }

            @Override
            public CompletableFuture<GroupState> beat(BoardBeat beat) {
                return g.beat(beat);
            }

            @Override
            public CompletableFuture<GroupState> readAsLeader() {
                return g.readAsLeader();
            }

            @Override
            public boolean isLeader() {
                return g.isLeader();
            }

            @Override
            public String leader() {
                return g.leader();
            }

            @Override
            public Map<String, BeatSeen> beatsSeen() {
                return g.beatsSeen();
            }

            @Override
            public Map<String, Boolean> votersReachable() {
                return g.votersReachable();
            }

            @Override
            public void onApplied(Consumer<GroupState> listener) {
                g.onApplied(listener);
            }
        };
    }
}
