package io.ringstore.consensus;

/**
 * A beat as the group leader last received it.
 *
 * @param ageMillis how long ago, on the leader's own monotonic clock (never a wall clock)
 */
public record BeatSeen(BoardBeat beat, long ageMillis) {}
