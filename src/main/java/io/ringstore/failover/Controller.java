package io.ringstore.failover;

import io.ringstore.consensus.BeatSeen;
import io.ringstore.consensus.BoardBeat;
import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;

/**
 * Decides who is primary: runs on every voter (the data boards and the witness) and acts only
 * while its voter leads the group, on the beats the leader has seen ({@link #decide}, a pure
 * function). Every decision it acts on, and every change of why it does nothing, is a journal
 * line.
 *
 * <p>The rules:
 * <ul>
 * <li>Bootstrap (nothing committed yet, epoch 0): adopt the board whose fresh beat says primary in
 *     the highest epoch (then the highest held, then the first name), alone in sync:
 *     {@code NewPrimary(0, its epoch, board, [board])}.
 * <li>The committed primary is alive while its last beat is younger than
 *     {@code failover_after_ms} (a voter that just became leader has seen no beat: it counts the
 *     time since it leads, so it never promotes on a blank view, nor on a beat it kept from an
 *     earlier time it led). A primary chosen a moment ago
 *     still beats as a standby while it waits W; it counts as alive until W plus
 *     {@code failover_after_ms} after this voter saw the epoch committed, after which a beat that
 *     still does not say primary in that epoch (its promotion was refused: it says why) counts as
 *     a failed takeover, and another standby is chosen, from the in-sync set of the epoch before
 *     (the failed one acknowledged nothing, so that set still holds everything acknowledged),
 *     when this voter saw it; a leader that did not see it chooses nobody and says so. The
 *     failed primary's lease keeps it from acknowledging should it take over late.
 * <li>Otherwise choose among the committed in-sync standbys those whose beat is fresh, in the
 *     committed epoch, and promotable (the standby decides that itself: caught up with a live
 *     primary since its last start); the one holding the most wins (then the first name).
 *     {@code NewPrimary(epoch, newEpoch, board, [board])}, newEpoch one above every epoch seen:
 *     the others rejoin the in-sync set once caught up. No candidate: nothing happens, and the
 *     journal says why each standby is not one.
 * </ul>
 */
public final class Controller implements AutoCloseable {
    /** What to do now: a change to propose (null: none) and why. */
    public record Decision(GroupChange change, String why) {}

    /** The state before the committed epoch, as this voter saw it (for a failed takeover). */
    public record Previous(long epoch, List<String> inSync) {}

    private final Group group;
    private final FailoverOptions options;
    private final String voter;
    private final long tickMillis;
    private volatile boolean closed;
    private final Thread thread;
    private volatile Decision last = new Decision(null, "not started");
    private volatile long lastNanos = System.nanoTime();
    private String lastLoggedShape = "";

    /** Starts the controller loop of voter {@code voter} (its own thread). */
    public Controller(Group group, FailoverOptions options, String voter) {
        this.group = group;
        this.options = options;
        this.voter = voter;
        this.tickMillis = Math.max(20, Math.min(250, options.beatMillis() / 2));
        this.thread = Thread.ofPlatform().name("ringstore-failover-controller").daemon().start(this::loop);
    }

    /** The last decision and how long ago it was taken, for status. */
    public Decision lastDecision() {
        return last;
    }

    public long lastDecisionAgeMillis() {
        return (System.nanoTime() - lastNanos) / 1_000_000;
    }

    private void loop() {
        long leaderSince = 0;
        boolean leading = false;
        boolean caughtUpAsLeader = false;
        long epochSeen = -1;
        long epochSeenAt = System.nanoTime();
        GroupState seen = null;
        Previous previous = null;
        while (!closed) {
            try {
                Thread.sleep(tickMillis);
            } catch (InterruptedException e) {
                return;
            }
            try {
                long now = System.nanoTime();
                // Followed on every voter, leading or not: a voter that becomes leader knows when
                // the epoch was committed and the in-sync set before it.
                GroupState state = group.committed();
                if (state.epoch() != epochSeen) {
                    previous = seen == null || epochSeen < 0 ? null : new Previous(seen.epoch(), seen.inSync());
                    epochSeen = state.epoch();
                    epochSeenAt = now;
                }
                seen = state;
                if (!group.isLeader()) {
                    leading = false;
                    continue;
                }
                if (!leading) {
                    leading = true;
                    leaderSince = now;
                    caughtUpAsLeader = false;
                    Logger.info("failover: voter {} leads the group: deciding from the beats it sees from now on", voter);
                }
                if (!caughtUpAsLeader) {
                    // A new leader's applied state can lag what the group committed before its
                    // term (a restarted voter applies its restored log only after its first commit
                    // as leader): a decision from it would be a proposal from a stale state (the
                    // compare-and-set refuses it, but it was logged as a bootstrap; WitnessDaemonTest
                    // saw one). Decide only once a read on the leader has returned.
                    try {
                        group.readAsLeader().get(Math.max(1_000, tickMillis * 4L), TimeUnit.MILLISECONDS);
                        caughtUpAsLeader = true;
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        // Its term's first entry is not committed yet, or it lost the lead: next tick.
                    } catch (InterruptedException e) {
                        return; // closed
                    }
                    continue; // the next tick takes the state it has applied by now
                }
                Decision d = decide(state, group.beatsSeen(), (now - leaderSince) / 1_000_000,
                        (now - epochSeenAt) / 1_000_000, previous, options);
                act(state, d);
            } catch (RuntimeException e) {
                Logger.error(e, "failover: the controller's step failed (tried again in {} ms)", tickMillis);
            }
        }
    }

    private void act(GroupState state, Decision d) {
        String shape = d.why().replaceAll("\\d+", "#");
        if (d.change() == null) {
            if (!shape.equals(lastLoggedShape)) {
                lastLoggedShape = shape;
                last = d;
                lastNanos = System.nanoTime();
                Logger.info("failover decision: none: {} (state epoch={} primary={} in_sync={})", d.why(), state.epoch(),
                        state.primary(), state.inSync());
            }
            return;
        }
        lastLoggedShape = shape;
        last = d;
        lastNanos = System.nanoTime();
        Logger.warn("failover decision: propose {}: {}", d.change(), d.why());
        try {
            GroupState after = group.propose(d.change()).get(Math.max(1_000, options.failoverAfterMillis()), TimeUnit.MILLISECONDS);
            Logger.warn("failover decision: committed: epoch={} primary={} in_sync={} index={}{}", after.epoch(),
                    after.primary(), after.inSync(), after.index(), after.epoch() == state.epoch()
                            ? " (unchanged: the state moved on before the change applied)" : "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Logger.warn("failover decision: the proposal failed, tried again on a later step: {}", e.toString());
        }
    }

    /**
     * The controller's rule (see the class comment) as a pure function.
     *
     * @param leaderForMillis   how long this voter has led the group (beats seen by an earlier
     *                          leader are not in {@code beats})
     * @param epochSeenForMillis how long this voter has seen {@code state}'s epoch committed
     * @param previous          the state before this epoch as this voter saw it; null when it did not
     */
    public static Decision decide(GroupState state, Map<String, BeatSeen> beats, long leaderForMillis,
                                  long epochSeenForMillis, Previous previous, FailoverOptions o) {
        long after = o.failoverAfterMillis();
        if (state.epoch() == 0) {
            BeatSeen best = beats.values().stream()
                    .filter(b -> b.ageMillis() < after && b.beat().role().equals("primary"))
                    .max(Comparator.<BeatSeen>comparingLong(b -> b.beat().epoch())
                            .thenComparingLong(b -> b.beat().held())
                            .thenComparing(b -> b.beat().board(), Comparator.reverseOrder()))
                    .orElse(null);
            if (best == null) {
                return new Decision(null, "no primary yet, and no board's fresh beat says primary (heard: "
                        + describe(beats) + ")");
            }
            BoardBeat b = best.beat();
            long epoch = Math.max(1, b.epoch());
            return new Decision(new GroupChange.NewPrimary(0, epoch, b.board(), List.of(b.board())),
                    "bootstrap: " + b.board() + " says primary in epoch " + b.epoch() + " holding " + b.held());
        }
        String primary = state.primary();
        BeatSeen p = beats.get(primary);
        // Silence is counted from this voter's leadership at most: a beat it kept from an earlier
        // time it led says nothing of the time another voter led (the primary beat to that one).
        long age = p == null ? leaderForMillis : Math.min(p.ageMillis(), leaderForMillis);
        String exclude = null;
        if (age < after) {
            BoardBeat b = p == null ? null : p.beat();
            if (b == null) {
                return new Decision(null, "primary " + primary + " not heard yet; this voter has led for "
                        + leaderForMillis + " ms (failover after " + after + " ms)");
            }
            if (b.role().equals("primary") && b.epoch() == state.epoch()) {
                return new Decision(null, "primary " + primary + " alive in epoch " + state.epoch() + " (beat "
                        + p.ageMillis() + " ms ago)");
            }
            long grace = o.takeoverWaitNanos() / 1_000_000 + after;
            if (epochSeenForMillis < grace && !b.role().equals("fenced")) {
                return new Decision(null, "primary " + primary + " is taking over epoch " + state.epoch()
                        + " (its beat says " + b.role() + " in epoch " + b.epoch() + ")");
            }
            exclude = primary;
        }
        List<String> rejected = new ArrayList<>();
        BeatSeen chosen = null;
        // A failed takeover: the new epoch's in-sync set is the failed primary alone; the set
        // before it holds everything acknowledged (nothing was acknowledged in the failed epoch).
        List<String> pool = state.inSync();
        long poolEpoch = state.epoch();
        if (exclude != null) {
            if (previous == null || previous.epoch() >= state.epoch()) {
                return new Decision(null, "primary " + primary + " did not take over epoch " + state.epoch()
                        + " and this voter did not see the in-sync set before it: no standby is known to hold "
                        + "everything acknowledged");
            }
            pool = previous.inSync();
            poolEpoch = previous.epoch();
        }
        for (String board : pool) {
            if (board.equals(primary)) {
                continue;
            }
            BeatSeen s = beats.get(board);
            String why = s == null ? "no beat seen"
                    : s.ageMillis() >= after ? "beat " + s.ageMillis() + " ms old"
                    : !s.beat().role().equals("standby") ? "says " + s.beat().role()
                    : s.beat().epoch() != poolEpoch ? "in epoch " + s.beat().epoch() + ", not " + poolEpoch
                    : !s.beat().promotable() ? "not promotable: " + s.beat().notPromotableBecause()
                    : null;
            if (why != null) {
                rejected.add(board + ": " + why);
                continue;
            }
            if (chosen == null || s.beat().held() > chosen.beat().held()
                    || (s.beat().held() == chosen.beat().held() && board.compareTo(chosen.beat().board()) < 0)) {
                chosen = s;
            }
        }
        for (BeatSeen s : beats.values()) {
            if (!pool.contains(s.beat().board()) && !s.beat().board().equals(primary)) {
                rejected.add(s.beat().board() + ": not in the in-sync set");
            }
        }
        String gone = exclude != null
                ? "primary " + primary + " did not take over epoch " + state.epoch() + " (its beat says "
                        + p.beat().role() + " in epoch " + p.beat().epoch()
                        + (p.beat().notPromotableBecause().isEmpty() ? "" : ": " + p.beat().notPromotableBecause()) + ")"
                : "primary " + primary + " silent for " + age + " ms (failover after " + after + " ms)";
        if (chosen == null) {
            return new Decision(null, gone + "; no standby can take over: "
                    + (rejected.isEmpty() ? "the in-sync set has no standby" : String.join("; ", rejected)));
        }
        long top = state.epoch();
        for (BeatSeen s : beats.values()) {
            top = Math.max(top, s.beat().epoch());
        }
        BoardBeat c = chosen.beat();
        return new Decision(new GroupChange.NewPrimary(state.epoch(), top + 1, c.board(), List.of(c.board())),
                gone + "; promoting " + c.board() + " (in sync, promotable, holds " + c.held() + ")"
                        + (rejected.isEmpty() ? "" : "; not: " + String.join("; ", rejected)));
    }

    private static String describe(Map<String, BeatSeen> beats) {
        if (beats.isEmpty()) {
            return "none";
        }
        List<String> out = new ArrayList<>();
        for (BeatSeen s : beats.values()) {
            out.add(s.beat().board() + " " + s.beat().role() + " epoch " + s.beat().epoch() + " " + s.ageMillis() + " ms ago");
        }
        return String.join(", ", out);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
