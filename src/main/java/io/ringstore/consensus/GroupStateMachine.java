package io.ringstore.consensus;

import io.microraft.statemachine.StateMachine;
import java.util.List;
import java.util.function.Consumer;

/**
 * The replicated state: one {@link GroupState}. Runs on the Raft thread only; {@link #current()}
 * may be read from any thread. A snapshot is the state itself, in one chunk.
 */
final class GroupStateMachine implements StateMachine {
    private final Consumer<GroupState> applied;
    private volatile GroupState state = GroupState.INITIAL;

    /** @param applied told every state this machine moves to (on the Raft thread: must not block) */
    GroupStateMachine(Consumer<GroupState> applied) {
        this.applied = applied;
    }

    GroupState current() {
        return state;
    }

    @Override
    public Object runOperation(long commitIndex, Object operation) {
        return switch (operation) {
            case GroupChange change -> {
                GroupState next = apply(state, change, commitIndex);
                if (next != state) {
                    state = next;
                    applied.accept(next);
                }
                yield next;
            }
            case GroupOps.Read r -> state;
            case GroupOps.NewTerm t -> state;
            default -> throw new IllegalArgumentException("not an operation of this group: " + operation);
        };
    }

    /** The state after {@code change} at log index {@code index}; {@code s} itself when the precondition fails. */
    static GroupState apply(GroupState s, GroupChange change, long index) {
        return switch (change) {
            case GroupChange.NewPrimary p when s.epoch() == p.expectedEpoch() && p.newEpoch() > p.expectedEpoch() ->
                    new GroupState(p.newEpoch(), p.board(), p.inSync(), index);
            case GroupChange.SetInSync x when s.epoch() == x.epoch() && s.primary().equals(x.primary()) ->
                    new GroupState(s.epoch(), s.primary(), x.inSync(), index);
            default -> s;
        };
    }

    @Override
    public void takeSnapshot(long commitIndex, Consumer<Object> snapshotChunkConsumer) {
        snapshotChunkConsumer.accept(state);
    }

    @Override
    public void installSnapshot(long commitIndex, List<Object> snapshotChunks) {
        if (snapshotChunks.size() != 1 || !(snapshotChunks.getFirst() instanceof GroupState s)) {
            throw new IllegalArgumentException("a snapshot of this group is one GroupState, got " + snapshotChunks);
        }
        state = s;
        applied.accept(s);
    }

    @Override
    public Object getNewTermOperation() {
        return GroupOps.NewTerm.INSTANCE;
    }
}
