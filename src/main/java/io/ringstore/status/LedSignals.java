package io.ringstore.status;

import io.ringstore.split.SplitterState;

/**
 * What the LEDs show, taken from the same status the daemon reports elsewhere.
 *
 * @param groupCommits    group commits so far (the write LED flashes when it moves)
 * @param splitter        the splitter's state
 * @param lagging         the splitter is behind by more than its window
 * @param writersHeld     producers are being held back (the writer's queue is full)
 * @param storageFault    storage error or full disk right now
 * @param corruptionFound damage was found at start-up (repair ran, or a reader hit it)
 * @param recovering      recovery is running
 * @param replica         how replication stands (NONE without a standby board)
 */
public record LedSignals(long groupCommits, SplitterState splitter, boolean lagging, boolean writersHeld,
                         boolean storageFault, boolean corruptionFound, boolean recovering, Replica replica) {
    public static final LedSignals IDLE = new LedSignals(0, SplitterState.RUNNING, false, false, false, false, false);

    /** What the replication light shows. */
    public enum Replica {
        /** Replication not configured: dark. */
        NONE,
        /** A primary with every standby connected and close behind: steady. */
        IN_SYNC,
        /** A standby following its primary closely: slow blink. */
        FOLLOWING,
        /** A standby missing or far behind, a standby cut off from its primary, or a fenced primary: fast blink. */
        DEGRADED
    }

    public LedSignals(long groupCommits, SplitterState splitter, boolean lagging, boolean writersHeld,
                      boolean storageFault, boolean corruptionFound, boolean recovering) {
        this(groupCommits, splitter, lagging, writersHeld, storageFault, corruptionFound, recovering, Replica.NONE);
    }
}
