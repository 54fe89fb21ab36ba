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

    /** Applies iff current epoch == epoch and current primary == primary. */
    record SetInSync(long epoch, String primary, List<String> inSync) implements GroupChange {
        public SetInSync {
            if (primary == null || inSync == null) {
                throw new IllegalArgumentException("primary and inSync must not be null");
            }
            inSync = List.copyOf(inSync);
        }
    }
}
