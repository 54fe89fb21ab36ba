package io.ringstore.failover;

import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The primary's in-sync set: which standbys acknowledgements wait for, and when to propose a
 * change of it to the group. Driven by {@link #step} on the failover thread; decides from what
 * it is given (no clock or group of its own), so its rules are tested as they are.
 *
 * <p>Invariant: the standbys acknowledgements wait for always include every standby of the
 * committed in-sync set. So:
 * <ul>
 * <li>Drop: a required standby that does not hold, within {@code insync_drop_after_ms}, the
 *     position written when a batch was waiting for it, is proposed out
 *     ({@code SetInSync} without it); it stays required until the group answers with the change
 *     applied, so the acknowledgements that waited for it are released only after the commit (no
 *     silent fallback).
 * <li>Add: a standby not required that has held, without a break for
 *     {@code insync_rejoin_after_ms}, what the primary had written a third of
 *     {@code insync_drop_after_ms} earlier (hysteresis: one that flaps or falls further behind
 *     stays out; a tolerance, not "one step earlier", because under sustained appends a standby
 *     that keeps up is always some milliseconds behind, and a 50 ms hiccup (a GC pause, a busy
 *     core) would otherwise restart its spell for ever: the nemesis saw a standby 1.3 KB behind
 *     left out for minutes while the primary acknowledged alone) is made
 *     required first, then proposed in; it stays required while the outcome is unknown (a
 *     proposal that timed out may still commit).
 * </ul>
 * The primary's own lease never depends on standbys: a standby that flaps costs at most one drop
 * (appends wait up to the drop time once) and then stays out until it is steady again.
 */
final class InSyncKeeper {
    /** What to wait for now and what to propose (null: nothing), in that order. */
    record Step(Set<String> required, GroupChange.SetInSync proposal, String why) {}

    private final String me;
    private final long dropAfterNanos;
    private final long rejoinAfterNanos;
    /** Per required standby behind a waiting batch: {position it must reach, since when}. */
    private final Map<String, long[]> lag = new HashMap<>();
    private final Map<String, Long> caughtUpSince = new HashMap<>();
    /** Made required and proposed in, not yet seen committed. */
    private final Set<String> adding = new TreeSet<>();
    /** {nanos, written position} per step, oldest first: one sample older than the tolerance is kept. */
    private final java.util.ArrayDeque<long[]> writtenHistory = new java.util.ArrayDeque<>();
    /** How far behind the primary's writes (in time) a standby may be and still count as caught up. */
    private final long toleranceNanos;

    InSyncKeeper(String me, FailoverOptions o) {
        this.me = me;
        this.dropAfterNanos = o.insyncDropAfterMillis() * 1_000_000L;
        this.rejoinAfterNanos = o.insyncRejoinAfterMillis() * 1_000_000L;
        this.toleranceNanos = dropAfterNanos / 3;
    }

    /**
     * One step, on a primary the committed state names in its epoch.
     *
     * @param held        per peer, what it holds in the ack mode's sense (memory or forced); -1 when not connected
     * @param acksWaiting whether acknowledgements wait for the standbys now
     */
    Step step(long nowNanos, GroupState committed, long written, Map<String, Long> held, boolean acksWaiting) {
        Set<String> members = new TreeSet<>(committed.inSync());
        members.remove(me);
        adding.removeIf(members::contains);
        Set<String> required = new TreeSet<>(members);
        required.addAll(adding);

        List<String> drops = new ArrayList<>();
        for (String r : required) {
            long h = held.getOrDefault(r, -1L);
            long[] mark = lag.get(r);
            if (mark != null && h >= mark[0]) {
                lag.remove(r);
                mark = null;
            }
            if (mark == null && acksWaiting && h < written) {
                lag.put(r, new long[] {written, nowNanos});
            } else if (mark != null && nowNanos - mark[1] >= dropAfterNanos) {
                drops.add(r);
            }
        }
        long before = writtenToleranceAgo(nowNanos);
        recordWritten(nowNanos, written);
        if (!drops.isEmpty()) {
            List<String> next = new ArrayList<>(committed.inSync());
            next.removeAll(drops);
            StringBuilder why = new StringBuilder();
            for (String d : drops) {
                why.append(why.isEmpty() ? "" : "; ").append(d).append(" holds ").append(held.getOrDefault(d, -1L))
                        .append(", not ").append(lag.get(d)[0]).append(", for ")
                        .append((nowNanos - lag.get(d)[1]) / 1_000_000).append(" ms");
            }
            return new Step(required, new GroupChange.SetInSync(committed.epoch(), me, next, committed.index()),
                    "dropping " + drops + " from the in-sync set: " + why);
        }
        if (!adding.isEmpty()) {
            // Made required and proposed, but not seen committed (the proposal's outcome was
            // unknown): proposed again; the change names the whole set, so a repeat is harmless.
            List<String> next = new ArrayList<>(committed.inSync());
            next.addAll(adding);
            return new Step(required, new GroupChange.SetInSync(committed.epoch(), me, next, committed.index()),
                    "adding " + adding + " to the in-sync set again: not seen committed yet");
        }
        for (Map.Entry<String, Long> e : held.entrySet()) {
            String s = e.getKey();
            if (s.equals(me) || required.contains(s)) {
                caughtUpSince.remove(s);
                continue;
            }
            boolean caughtUp = e.getValue() >= 0 && before >= 0 && e.getValue() >= before;
            if (!caughtUp) {
                caughtUpSince.remove(s);
                continue;
            }
            long since = caughtUpSince.computeIfAbsent(s, k -> nowNanos);
            if (nowNanos - since >= rejoinAfterNanos) {
                adding.add(s);
                required.add(s);
                List<String> next = new ArrayList<>(committed.inSync());
                next.add(s);
                return new Step(required, new GroupChange.SetInSync(committed.epoch(), me, next, committed.index()),
                        "adding " + s + " to the in-sync set: caught up (holds " + e.getValue() + ") for "
                                + (nowNanos - since) / 1_000_000 + " ms; acknowledgements wait for it from now");
            }
        }
        return new Step(required, null, "");
    }

    /**
     * The position the primary had written {@link #toleranceNanos} ago (the oldest one known while
     * the history is younger than that; -1 at the first step).
     */
    private long writtenToleranceAgo(long nowNanos) {
        long position = -1;
        for (long[] sample : writtenHistory) {
            if (position >= 0 && nowNanos - sample[0] < toleranceNanos) {
                break;
            }
            position = sample[1];
        }
        return position;
    }

    private void recordWritten(long nowNanos, long written) {
        writtenHistory.addLast(new long[] {nowNanos, written});
        while (writtenHistory.size() > 1) {
            long[] second = writtenHistory.stream().skip(1).findFirst().orElseThrow();
            if (nowNanos - second[0] < toleranceNanos) {
                break;
            }
            writtenHistory.removeFirst(); // the next one is old enough to answer for it
        }
    }

    /** What acknowledgements wait for on {@code committed}, without deciding anything. */
    Set<String> required(GroupState committed) {
        Set<String> required = new TreeSet<>(committed.inSync());
        required.remove(me);
        required.addAll(adding);
        return required;
    }

    /** The group answered {@code p} with {@code after}: standbys it dropped stop being required. */
    void applied(GroupChange.SetInSync p, GroupState after) {
        for (String b : new ArrayList<>(lag.keySet())) {
            if (!p.inSync().contains(b) && !after.inSync().contains(b) && after.epoch() == p.epoch()) {
                lag.remove(b);
                adding.remove(b);
                caughtUpSince.remove(b);
            }
        }
    }
}
