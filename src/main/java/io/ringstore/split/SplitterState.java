package io.ringstore.split;

/** What the splitter is doing; reported in the status and on the lag LED. */
public enum SplitterState {
    /** Keeping up: windows are split as they fill or age. */
    RUNNING,
    /** Storage is busy: the splitter waits, the log keeps taking writes. */
    PAUSED_FOR_PRESSURE,
    /** Pressure eased with a backlog: splitting window after window without waiting. */
    CATCHING_UP,
    /** Lag past its bound under pressure: splitting anyway, at a limited rate. */
    OVER_LIMIT,
    /** Disabled or stopped. */
    STOPPED
}
