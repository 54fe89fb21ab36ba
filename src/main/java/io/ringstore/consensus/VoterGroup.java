package io.ringstore.consensus;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * This board's voter in the group that decides who leads, the epoch and the in-sync set (a small
 * Raft group over MicroRaft; never events).
 *
 * <p>API first: the bodies are not written yet.
 */
public final class VoterGroup implements AutoCloseable {
    private VoterGroup() {}

    public static VoterGroup start(GroupOptions options) throws IOException {
        throw new UnsupportedOperationException("not yet written");
    }

    /** The last state applied on this voter (may lag the leader). */
    public GroupState committed() {
        throw new UnsupportedOperationException("not yet written");
    }

    /**
     * Forwarded to the leader; completes with the state after it applied (unchanged when its
     * precondition failed); fails with {@link GroupUnavailableException}.
     */
    public CompletableFuture<GroupState> propose(GroupChange change) {
        throw new UnsupportedOperationException("not yet written");
    }

    /**
     * Sent to the leader (forwarded if this voter is not it); the leader records it ({@link #beatsSeen})
     * and answers with a linearizable read of the state (the leader confirms its leadership with a
     * majority before answering), so a primary can hold a lease from it.
     */
    public CompletableFuture<GroupState> beat(BoardBeat beat) {
        throw new UnsupportedOperationException("not yet written");
    }

    public boolean isLeader() {
        throw new UnsupportedOperationException("not yet written");
    }

    /** The leader's name, "" when unknown. */
    public String leader() {
        throw new UnsupportedOperationException("not yet written");
    }

    /** On the leader: the latest beat per board (empty elsewhere). */
    public Map<String, BeatSeen> beatsSeen() {
        throw new UnsupportedOperationException("not yet written");
    }

    /** Per other voter, from this voter's transport: heard from within about three heartbeats. */
    public Map<String, Boolean> votersReachable() {
        throw new UnsupportedOperationException("not yet written");
    }

    /** Called on a group thread after each applied change (and once at start with the restored state). */
    public void onApplied(Consumer<GroupState> listener) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("not yet written");
    }
}
