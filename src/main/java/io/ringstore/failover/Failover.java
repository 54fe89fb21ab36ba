package io.ringstore.failover;

import io.ringstore.consensus.BoardBeat;
import io.ringstore.consensus.GroupChange;
import io.ringstore.consensus.GroupState;
import io.ringstore.error.RingStoreException;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.Replication;
import io.ringstore.replication.Role;
import io.ringstore.replication.StandbyProgress;
import io.ringstore.store.RingStore;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.tinylog.Logger;

/**
 * Automatic failover on one data board: what the voter group decides, done to this board's
 * store. Made from the board's {@link Group} voter, its open store (with replication) and the
 * options; {@link #start()} after the store opened, {@link #close()} before it closes. The group
 * itself belongs to the caller (the daemon), which also runs a {@link Controller} on a witness.
 *
 * <p>Three threads:
 * <ul>
 * <li>beats ({@code ringstore-failover-beat}): every {@code lease/3} this board tells the group
 *     leader its role, epoch, positions and whether it is promotable; the answer (a linearizable
 *     read) renews the primary's {@link Lease}, or ends it.
 * <li>the board's part ({@code ringstore-failover}): a primary the group no longer names fences
 *     itself; a standby the group names primary waits W (see {@link Lease}) from when it learned
 *     it, then promotes itself into the group's epoch ({@link Replication#promoteInto}); if that
 *     is refused its beats say why and the controller chooses again; the other standbys follow
 *     the new primary. On the primary it keeps the in-sync set ({@link InSyncKeeper}).
 * <li>the {@link Controller}, acting while this board's voter leads the group.
 * </ul>
 *
 * <p>Epochs: a log that never changed primary is in epoch 0; the group cannot commit epoch 0
 * (a new primary needs an epoch above the one expected), so for the group that log is in epoch
 * 1, and the first promotion makes epoch 2. Replication's own epochs are otherwise the group's.
 *
 * <p>With a group, the operator's {@code ringstore promote} and {@code ringstore replication
 * solo|paired} are refused, naming the group's way: they would bypass it (a board promoted by
 * hand is a second primary the group does not know; a solo primary acknowledges what the in-sync
 * set it committed does not hold).
 */
public final class Failover implements AutoCloseable {
    private final Group group;
    private final RingStore store;
    private final Replication replication;
    private final FailoverOptions options;
    private final String me;
    private final long bootId = new SecureRandom().nextLong();
    private final Lease lease;
    private final InSyncKeeper keeper;
    private final long leaseNanos;
    private final long takeoverWaitNanos;
    private volatile boolean closed;
    private volatile GroupState newest = GroupState.INITIAL;
    private Thread beatThread;
    private Thread boardThread;
    private Controller controller;

    // The board's part, on its thread.
    private long chosenEpoch = -1;
    private long chosenAtNanos;
    private long attemptedEpoch = -1;
    private volatile String refusal;
    private volatile long refusedEpoch = -1;
    private boolean leaseWasValid;
    /** The last takeover: how long this board waited from learning its election to promoting (-1: none). */
    private volatile long lastTakeoverWaitNanos = -1;

    // Published for status and errors.
    private volatile String lastBeatProblem = "no beat answered yet";
    private volatile long lastAnswerNanos;
    private volatile String lastDecision = "none yet";
    private volatile long lastDecisionNanos = System.nanoTime();

    public Failover(Group group, RingStore store, FailoverOptions options) {
        this.group = group;
        this.store = store;
        this.replication = store.replication();
        if (replication == null) {
            throw new IllegalArgumentException("automatic failover needs replication configured on this board");
        }
        options.checkAgainst(store.config().writer().ack().timeoutMillis());
        this.options = options;
        this.me = replication.options().board();
        this.lease = new Lease(this::whyNoLease);
        this.keeper = new InSyncKeeper(me, options);
        this.leaseNanos = options.leaseMillis() * 1_000_000L;
        this.takeoverWaitNanos = options.takeoverWaitNanos();
    }

    /** Gates acknowledgements by the lease, refuses manual promotion and solo, starts the threads. */
    public synchronized void start() {
        replication.setGroupManaged("automatic failover is on (a group of three voters decides the primary, its epoch "
                + "and the in-sync set): the group promotes a standby when the primary is silent for "
                + options.failoverAfterMillis() + " ms, and drops a standby that does not keep up from the in-sync set "
                + "after " + options.insyncDropAfterMillis() + " ms");
        store.setAckGate(lease);
        offer(group.committed());
        GroupState s = newest;
        if (replication.role() == Role.PRIMARY && s.primary().equals(me) && s.epoch() == myEpoch()) {
            replication.progress().requireOnly(others(s.inSync()));
        }
        group.onApplied(state -> {
            offer(state);
            Thread t = boardThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        });
        beatThread = Thread.ofPlatform().name("ringstore-failover-beat").daemon().start(this::beatLoop);
        boardThread = Thread.ofPlatform().name("ringstore-failover").daemon().start(this::boardLoop);
        controller = new Controller(group, options, me);
        decided("started: board=" + me + " role=" + role() + " epoch=" + myEpoch() + " lease_ms=" + options.leaseMillis()
                + " takeover_wait_ms=" + takeoverWaitNanos / 1_000_000 + " failover_after_ms=" + options.failoverAfterMillis());
    }

    /** The lease acknowledgements wait for (for tests and status). */
    public Lease lease() {
        return lease;
    }

    /** How long this board waited from learning it was chosen to promoting itself, in ms; -1 before any takeover. */
    public long lastTakeoverWaitMillis() {
        long w = lastTakeoverWaitNanos;
        return w < 0 ? -1 : w / 1_000_000;
    }

    /** W, the wait of a newly chosen primary, in ms. */
    public long takeoverWaitMillis() {
        return takeoverWaitNanos / 1_000_000;
    }

    // ------------------------------------------------------------------ beats and the lease

    private void beatLoop() {
        long interval = options.beatMillis() * 1_000_000L;
        while (!closed) {
            long sent = System.nanoTime();
            try {
                BoardBeat b = beat();
                GroupState answer = group.beat(b).get(options.leaseMillis(), TimeUnit.MILLISECONDS);
                answered(sent, answer);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
                lastBeatProblem = c.toString();
            }
            long left = sent + interval - System.nanoTime();
            if (left > 0) {
                LockSupport.parkNanos(this, left);
            }
        }
    }

    /** The group answered the beat sent at {@code sentNanos}: the lease is renewed only if it names this board primary in its epoch. */
    private void answered(long sentNanos, GroupState answer) {
        lastAnswerNanos = System.nanoTime();
        lastBeatProblem = "";
        offer(answer);
        if (replication.role() == Role.PRIMARY && replication.acknowledging() && answer.primary().equals(me)
                && answer.epoch() == myEpoch()) {
            lease.grant(answer.epoch(), sentNanos, leaseNanos);
        } else {
            lease.revoke();
        }
        Thread t = boardThread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private BoardBeat beat() {
        Role r = replication.role();
        String role = r == Role.PRIMARY ? (replication.acknowledging() ? "primary" : "fenced") : "standby";
        String unsafe = notPromotableBecause();
        return new BoardBeat(me, role, myEpoch(), replication.held(), replication.durable(), unsafe == null,
                unsafe == null ? "" : unsafe, bootId);
    }

    private String notPromotableBecause() {
        if (replication.role() != Role.STANDBY) {
            return "this board is " + (replication.acknowledging() ? "the primary" : "a fenced primary");
        }
        if (replication.restartRequired()) {
            return "this board must reopen its store first: " + replication.restartReason();
        }
        String r = refusal;
        if (r != null && refusedEpoch == newest.epoch()) {
            return r;
        }
        return replication.unsafeToPromote();
    }

    /** This board's epoch as the group counts it (see the class comment). */
    private long myEpoch() {
        return Math.max(1, replication.groupEpoch());
    }

    private String role() {
        Role r = replication.role();
        return r == Role.PRIMARY ? (replication.acknowledging() ? "primary" : "fenced") : "standby";
    }

    /** What a NO_QUORUM error and status say about a closed lease. */
    private String whyNoLease() {
        GroupState s = newest;
        List<String> unreachable = new ArrayList<>();
        try {
            for (Map.Entry<String, Boolean> e : group.votersReachable().entrySet()) {
                if (!e.getValue()) {
                    unreachable.add(e.getKey());
                }
            }
        } catch (RuntimeException e) {
            unreachable.add("(unknown: " + e + ")");
        }
        String named = s.epoch() == 0 ? "the group has named no primary yet"
                : s.primary().equals(me) && s.epoch() == myEpoch() ? "the group names this board primary in epoch " + s.epoch()
                : "the group names " + s.primary() + " primary in epoch " + s.epoch() + " (this board: " + role()
                        + " in epoch " + myEpoch() + ")";
        long since = lastAnswerNanos == 0 ? -1 : (System.nanoTime() - lastAnswerNanos) / 1_000_000;
        return "no valid lease: " + named + "; voters unreachable: " + (unreachable.isEmpty() ? "none" : unreachable)
                + "; last answer from the group " + (since < 0 ? "never" : since + " ms ago")
                + (lastBeatProblem.isEmpty() ? "" : " (" + lastBeatProblem + ")");
    }

    // ------------------------------------------------------------------ the board's part

    private final Object newestLock = new Object();

    private void offer(GroupState s) {
        synchronized (newestLock) {
            if (s != null && (s.index() > newest.index() || newest.epoch() == 0 && s.epoch() > 0)) {
                newest = s;
            }
        }
    }

    private void boardLoop() {
        while (!closed) {
            try {
                offer(group.committed());
                GroupState s = newest;
                react(s);
                if (replication.role() == Role.PRIMARY && replication.acknowledging() && s.primary().equals(me)
                        && s.epoch() == myEpoch()) {
                    keepInSync(s);
                }
                boolean valid = lease.open();
                if (valid != leaseWasValid) {
                    leaseWasValid = valid;
                    if (replication.role() == Role.PRIMARY) {
                        decided(valid ? "lease valid: this board acknowledges in epoch " + myEpoch()
                                : "lease lost: acknowledgements wait (then NO_QUORUM): " + whyNoLease());
                    }
                }
            } catch (RuntimeException e) {
                Logger.error(e, "failover: a step failed (tried again)");
            }
            LockSupport.parkNanos(this, 50_000_000L);
        }
    }

    private void react(GroupState s) {
        if (s.epoch() == 0 || s.primary().isEmpty()) {
            return;
        }
        long mine = myEpoch();
        if (replication.role() == Role.PRIMARY) {
            if (replication.acknowledging() && !s.primary().equals(me) && s.epoch() >= mine) {
                lease.revoke();
                decided("fencing: the group committed " + s.primary() + " primary in epoch " + s.epoch()
                        + " (this board's epoch is " + mine + "); appends are refused, and this board rejoins as a standby "
                        + "when its store reopens");
                replication.fencedByGroup(s.primary(), s.epoch());
            }
            return;
        }
        if (!s.primary().equals(me)) {
            try {
                if (replication.followPrimary(s.primary())) {
                    decided("following " + s.primary() + ", the group's primary in epoch " + s.epoch());
                }
            } catch (IOException e) {
                Logger.error("failover: switching to the new primary failed (tried again): {}", e.toString());
            }
            return;
        }
        if (s.epoch() <= mine || attemptedEpoch == s.epoch()) {
            if (s.epoch() <= mine && attemptedEpoch != s.epoch()) {
                attemptedEpoch = s.epoch();
                refused(s.epoch(), "the group's epoch " + s.epoch() + " is not newer than this board's " + mine);
            }
            return;
        }
        long now = System.nanoTime();
        if (chosenEpoch != s.epoch()) {
            chosenEpoch = s.epoch();
            chosenAtNanos = now;
            decided("chosen as primary for epoch " + s.epoch() + ": waiting " + takeoverWaitNanos / 1_000_000
                    + " ms (W) before taking over, so that the old primary's lease has ended");
        }
        if (now - chosenAtNanos < takeoverWaitNanos) {
            return;
        }
        attemptedEpoch = s.epoch();
        try {
            long waited = System.nanoTime() - chosenAtNanos;
            Replication.Promoted p = replication.promoteInto(s.epoch());
            lastTakeoverWaitNanos = waited;
            // Before any acknowledgement (the lease needs the next beat's answer): wait only for
            // the committed in-sync set, the new primary alone.
            replication.progress().requireOnly(others(s.inSync()));
            decided("promoted into epoch " + p.epoch() + " at position " + p.start() + " after waiting "
                    + waited / 1_000_000 + " ms (W " + takeoverWaitNanos / 1_000_000 + " ms) (" + p.message() + ")");
            LockSupport.unpark(beatThread);
        } catch (RingStoreException | IOException e) {
            refused(s.epoch(), e.getMessage());
        }
    }

    private void refused(long epoch, String why) {
        refusedEpoch = epoch;
        refusal = "promotion into epoch " + epoch + " refused: " + why;
        decided(refusal + " (the group chooses again)");
    }

    private void keepInSync(GroupState s) {
        AckMode mode = replication.options().ackMode();
        if (mode == AckMode.LOCAL) {
            return; // nothing waits for standbys; a standby of a local primary is never promotable
        }
        StandbyProgress progress = replication.progress();
        Map<String, Long> held = new LinkedHashMap<>();
        for (var peer : replication.options().peers()) {
            StandbyProgress.Standby st = progress.standby(peer.board());
            held.put(peer.board(), st == null || !st.connected() ? -1L
                    : mode == AckMode.REPLICA_DURABLE ? st.durable() : st.held());
        }
        boolean waiting = store.ackStatus().waitingBatches() > 0;
        InSyncKeeper.Step step = keeper.step(System.nanoTime(), s, replication.held(), held, waiting);
        progress.requireOnly(step.required());
        GroupChange.SetInSync p = step.proposal();
        if (p == null) {
            return;
        }
        decided(step.why() + "; proposing in_sync=" + p.inSync());
        try {
            GroupState after = group.propose(p).get(Math.max(1_000, options.leaseMillis()), TimeUnit.MILLISECONDS);
            offer(after);
            keeper.applied(p, after);
            decided("in-sync set committed: epoch=" + after.epoch() + " primary=" + after.primary() + " in_sync="
                    + after.inSync() + (after.inSync().equals(p.inSync()) ? "" : " (not as proposed: the state moved on)"));
            GroupState now = newest;
            if (now.primary().equals(me) && now.epoch() == myEpoch()) {
                progress.requireOnly(keeper.required(now));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            decided("in-sync change not known to be committed (tried again; acknowledgements keep waiting for "
                    + step.required() + "): " + e);
        }
    }

    private List<String> others(List<String> inSync) {
        List<String> out = new ArrayList<>(inSync);
        out.remove(me);
        return out;
    }

    private void decided(String what) {
        lastDecision = what;
        lastDecisionNanos = System.nanoTime();
        Logger.warn("failover: {}", what);
    }

    // ------------------------------------------------------------------ status

    public FailoverStatus status() {
        GroupState s = newest;
        Controller c = controller;
        String decision = lastDecision;
        long age = (System.nanoTime() - lastDecisionNanos) / 1_000_000;
        if (c != null && c.lastDecisionAgeMillis() < age) {
            decision = "controller: " + c.lastDecision().why();
            age = c.lastDecisionAgeMillis();
        }
        String unsafe = notPromotableBecause();
        Map<String, Boolean> reachable;
        String leader;
        try {
            reachable = Map.copyOf(group.votersReachable());
            leader = group.leader();
        } catch (RuntimeException e) {
            reachable = Map.of();
            leader = "";
        }
        return new FailoverStatus(me, role(), myEpoch(), s.epoch(), s.primary(), leader, reachable, s.inSync(),
                replication.role() == Role.PRIMARY ? List.copyOf(new TreeSet<>(replication.progress().required())) : List.of(),
                lease.open(), lease.remainingMillis(), replication.role() == Role.STANDBY && unsafe == null,
                unsafe == null ? "" : unsafe, decision, age, store.noQuorumFailures());
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (controller != null) {
            controller.close();
        }
        for (Thread t : new Thread[] {beatThread, boardThread}) {
            if (t != null) {
                t.interrupt();
                try {
                    t.join(2_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        lease.revoke();
        replication.setGroupManaged(null);
    }
}
