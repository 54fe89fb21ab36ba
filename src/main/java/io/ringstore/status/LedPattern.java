package io.ringstore.status;

/** What a light does over time. */
public enum LedPattern {
    OFF, ON,
    /** 1 Hz: half a second on, half off. */
    SLOW_BLINK,
    /** 4 Hz. */
    FAST_BLINK,
    /** A short flash per group commit, rate limited like a disk-activity light. */
    FLASH
}
