package io.ringstore.consensus;

import java.util.List;

/**
 * Changes the state machine applies; each applies only if its precondition holds, else it is a
 * no-op and the caller sees the unchanged state. The preconditions make a change proposed from a
 * stale view harmless: it names the state it was decided on.
 */
public sealed interface GroupChange {
    /** Applies iff current epoch == expectedEpoch and newEpoch > expectedEpoch. */
    record NewPrimary(long expectedEpoch, long newEpoch, String board, List<String> inSync) implements GroupChange {
        public NewPrimary {
            if (board == null || board.isEmpty() || inSync == null) {
                throw new IllegalArgumentException("a new primary needs a board name and an in-sync list");
            }
            inSync = List.copyOf(inSync);
        }
    }

    /**
     * Applies iff current epoch == epoch, current primary == primary and, unless it is
     * {@link #ANY_INDEX}, the current state's index == expectedIndex: a compare-and-set on the
     * state the primary decided on, so that a proposal whose outcome was unknown (timed out) and
     * that reaches the leader after a later change cannot undo that change (an "add b" arriving
     * after a "drop b" would otherwise put back a standby the primary no longer waits for).
     */
    record SetInSync(long epoch, String primary, List<String> inSync, long expectedIndex) implements GroupChange {
        /** No index precondition. */
        public static final long ANY_INDEX = -1;

        public SetInSync {
            if (primary == null || inSync == null) {
                throw new IllegalArgumentException("primary and inSync must not be null");
            }
            inSync = List.copyOf(inSync);
        }

        /** Without an index precondition (epoch and primary only). */
        public SetInSync(long epoch, String primary, List<String> inSync) {
            this(epoch, primary, inSync, ANY_INDEX);
        }
    }
}
