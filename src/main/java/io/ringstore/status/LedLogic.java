package io.ringstore.status;

import io.ringstore.split.SplitterState;
import java.util.EnumMap;
import java.util.Map;

/**
 * The LED state machine: from the daemon's status and the time, what each light shows. Pure
 * logic with an explicit clock (nanoseconds), so tests drive it without sleeping.
 *
 * <ul>
 *   <li>write: a {@value #FLASH_ON_MILLIS} ms flash when group commits happened, at most one per
 *       {@value #FLASH_PERIOD_MILLIS} ms (a disk-activity light); dark when idle.
 *   <li>lag: dark when caught up; slow blink when lagging; fast blink when paused for I/O
 *       pressure; steady when over its lag bound or when writers are held back.
 *   <li>fault: steady on storage error, full disk, corruption found (at start, or a damaged stream
 *       file rebuilt without some of its versions), or appends failing for want
 *       of a standby (REPLICA_UNAVAILABLE); blinking during recovery.
 *   <li>replica (optional, two boards): dark without replication; steady on a primary whose
 *       standbys are all connected and close behind; slow blink on a standby following its
 *       primary; fast blink when a standby is missing or far behind, a standby has lost its
 *       primary, or a primary was fenced by a newer epoch.
 * </ul>
 */
public final class LedLogic {
    static final long FLASH_ON_MILLIS = 40;
    static final long FLASH_PERIOD_MILLIS = 120;
    static final long SLOW_HALF_PERIOD_MILLIS = 500;
    static final long FAST_HALF_PERIOD_MILLIS = 125;

    private long lastCommits = -1;
    private long flashStartNanos = Long.MIN_VALUE / 2;
    private boolean pendingFlash;

    /** The pattern each light follows for these signals. */
    public static Map<Led, LedPattern> patterns(LedSignals s) {
        Map<Led, LedPattern> p = new EnumMap<>(Led.class);
        p.put(Led.WRITE, LedPattern.FLASH);
        LedPattern lag;
        if (s.writersHeld() || s.splitter() == SplitterState.OVER_LIMIT) {
            lag = LedPattern.ON;
        } else if (s.splitter() == SplitterState.PAUSED_FOR_PRESSURE) {
            lag = LedPattern.FAST_BLINK;
        } else if (s.lagging() && s.splitter() != SplitterState.STOPPED) {
            lag = LedPattern.SLOW_BLINK;
        } else {
            lag = LedPattern.OFF;
        }
        p.put(Led.LAG, lag);
        LedPattern fault;
        if (s.storageFault() || s.corruptionFound()) {
            fault = LedPattern.ON;
        } else if (s.recovering()) {
            fault = LedPattern.SLOW_BLINK;
        } else {
            fault = LedPattern.OFF;
        }
        p.put(Led.FAULT, fault);
        p.put(Led.REPLICA, switch (s.replica()) {
            case NONE -> LedPattern.OFF;
            case IN_SYNC -> LedPattern.ON;
            case FOLLOWING -> LedPattern.SLOW_BLINK;
            case DEGRADED -> LedPattern.FAST_BLINK;
        });
        return p;
    }

    /** Whether each light is lit at {@code nowNanos}. */
    public Map<Led, Boolean> lights(LedSignals s, long nowNanos) {
        Map<Led, LedPattern> patterns = patterns(s);
        Map<Led, Boolean> on = new EnumMap<>(Led.class);
        on.put(Led.WRITE, writeLit(s.groupCommits(), nowNanos));
        on.put(Led.LAG, lit(patterns.get(Led.LAG), nowNanos));
        on.put(Led.FAULT, lit(patterns.get(Led.FAULT), nowNanos));
        on.put(Led.REPLICA, lit(patterns.get(Led.REPLICA), nowNanos));
        return on;
    }

    private boolean writeLit(long commits, long now) {
        if (lastCommits >= 0 && commits != lastCommits) {
            pendingFlash = true;
        }
        lastCommits = commits;
        long sinceFlash = now - flashStartNanos;
        if (pendingFlash && sinceFlash >= FLASH_PERIOD_MILLIS * 1_000_000) {
            flashStartNanos = now;
            pendingFlash = false;
            sinceFlash = 0;
        }
        return sinceFlash < FLASH_ON_MILLIS * 1_000_000;
    }

    static boolean lit(LedPattern pattern, long now) {
        return switch (pattern) {
            case OFF, FLASH -> false;
            case ON -> true;
            case SLOW_BLINK -> (now / (SLOW_HALF_PERIOD_MILLIS * 1_000_000)) % 2 == 0;
            case FAST_BLINK -> (now / (FAST_HALF_PERIOD_MILLIS * 1_000_000)) % 2 == 0;
        };
    }
}
