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
 */
public record LedSignals(long groupCommits, SplitterState splitter, boolean lagging, boolean writersHeld,
                         boolean storageFault, boolean corruptionFound, boolean recovering) {
    public static final LedSignals IDLE = new LedSignals(0, SplitterState.RUNNING, false, false, false, false, false);
}
