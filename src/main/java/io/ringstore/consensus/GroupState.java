package io.ringstore.consensus;

import java.util.List;

/**
 * What the voters agree on; immutable.
 *
 * @param epoch   the primary's epoch; 0 (with primary "") = nobody chosen yet
 * @param primary the board that is primary in {@code epoch}; "" = nobody chosen yet
 * @param inSync  the boards every acknowledgement waits for, the primary included
 * @param index   the Raft log index of the change that made this state (0 before any)
 */
public record GroupState(long epoch, String primary, List<String> inSync, long index) {
    /** Before any change was committed. */
    public static final GroupState INITIAL = new GroupState(0, "", List.of(), 0);

    public GroupState {
        if (primary == null || inSync == null) {
            throw new IllegalArgumentException("primary and inSync must not be null");
        }
        inSync = List.copyOf(inSync);
    }
}
