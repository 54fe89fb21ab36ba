package io.ringstore.failover;

import io.ringstore.failover.History.Ack;
import io.ringstore.failover.History.Fault;
import io.ringstore.failover.History.Injected;
import io.ringstore.failover.VoterBoards.Channel;
import io.ringstore.failover.VoterBoards.Voter;
import io.ringstore.protocol.v1.StatusResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * The seeded nemesis over a failover group (two data boards and a witness, or three data boards):
 * round after round it waits until the group is whole again (every voter up, one primary, every
 * standby holding what the primary committed, appends acknowledged since the last fault), then
 * injects one fault, seeded: SIGKILL and restart the primary, a standby or the witness; SIGSTOP
 * one for a while; cut one voter off from the others, or one link both ways or one way; make the
 * primary deaf (it sends, hears nothing) or mute; cut the primary's group link to the witness only
 * (with three boards: to one other board). The last round always kills the primary, so every run
 * has a failover to time. One fault at a time, each healed before the next: any single failure.
 *
 * <p>A killed primary stays down until a standby has acknowledged an append (or 30 s, then the run
 * fails: no failover), so the time from SIGKILL to the first acknowledged append on the new
 * primary is measured without the old one competing.
 */
final class GroupNemesis {
    /** A whole group answers within this after a fault healed, or the run fails. */
    static final long RECOVER_MILLIS = Long.getLong("ringstore.nemesis3.recover-ms", 90_000);
    static final long FAILOVER_MILLIS = 30_000;
    /** How long the primary's shipping may be held back before the kill (below insync_drop_after_ms). */
    static final long TAIL_MILLIS = 700;
    /** The group must look whole this long without a break (longer than insync_drop_after_ms: a drop under way shows). */
    static final long STABLE_MILLIS = 2_000;

    private final VoterBoards boards;
    private final GroupClients clients;
    private final History history;
    private final Random random;
    private final List<Fault> kinds;
    private final List<Failover> failovers = new ArrayList<>();
    /** Boards killed while holding appends no standby held: each must report a divergent tail set aside. */
    final java.util.Set<String> expectTail = new java.util.LinkedHashSet<>();
    private int rounds;

    /** One killed primary: when, which board in which epoch, and who acknowledged first after it and when. */
    record Failover(int round, String from, long fromEpoch, long killNanos, String to, long toEpoch, long firstAckNanos) {
        double millis() {
            return (firstAckNanos - killNanos) / 1e6;
        }
    }

    GroupNemesis(VoterBoards boards, GroupClients clients, History history, long seed, List<Fault> only) {
        this.boards = boards;
        this.clients = clients;
        this.history = history;
        this.random = new Random(seed);
        List<Fault> k = new ArrayList<>(only.isEmpty() ? Arrays.asList(Fault.values()) : only);
        if (boards.witness() == null) {
            k.remove(Fault.KILL_WITNESS);
            k.remove(Fault.PAUSE_WITNESS);
        }
        this.kinds = List.copyOf(k);
    }

    List<Failover> failovers() {
        return List.copyOf(failovers);
    }

    void run(int rounds) throws Exception {
        this.rounds = rounds;
        for (int round = 1; round <= rounds; round++) {
            awaitWhole("before round " + round);
            Thread.sleep(200 + random.nextInt(800));
            Fault f = round == rounds ? Fault.KILL_PRIMARY : kinds.get(random.nextInt(kinds.size()));
            apply(round, f);
            boards.heal();
        }
        awaitWhole("after the last round");
    }

    private Voter primary() {
        Voter p = clients.primary();
        if (p == null) {
            throw new AssertionError("no primary known");
        }
        return p;
    }

    private Voter anyOther(Voter not, boolean dataOnly) {
        List<Voter> others = boards.all().stream().filter(v -> v != not && (!dataOnly || v.holdsData())).toList();
        return others.get(random.nextInt(others.size()));
    }

    private Voter anyVoter() {
        List<Voter> all = boards.all();
        return all.get(random.nextInt(all.size()));
    }

    private void note(int round, Fault f, String detail, Voter primary) {
        history.faults.add(new Injected(round, f, detail, primary.name(), clients.primaryEpoch(), System.nanoTime()));
        System.out.println("nemesis3 round " + round + ": " + f + " " + detail + " (primary " + primary.name()
                + " epoch " + clients.primaryEpoch() + ")");
    }

    private void apply(int round, Fault f) throws Exception {
        Voter p = primary();
        switch (f) {
            case KILL_PRIMARY -> {
                long epoch = clients.primaryEpoch();
                // The last round (and a seeded half of the others) first holds back the primary's
                // shipping, so its log runs past what the standbys hold when it dies: a divergent
                // tail it must set aside when it comes back.
                boolean tail = round == rounds || random.nextBoolean();
                String detail = p.name() + (tail ? " with a divergent tail" : "");
                if (tail) {
                    for (Voter o : boards.dataBoards()) {
                        if (o != p) {
                            boards.block(p, o, Channel.REPLICATION);
                        }
                    }
                    // An append sent after the block, given time to be written, and the primary
                    // waiting for its standbys: its log holds records they never got.
                    // Bounded well below insync_drop_after_ms: held back longer, the standbys would
                    // be dropped from the in-sync set and none could be promoted (a second fault).
                    long blocked = System.nanoTime();
                    boolean held = false;
                    while (!held && System.nanoTime() - blocked < TAIL_MILLIS * 1_000_000L) {
                        StatusResponse st = VoterBoards.status(p, 300);
                        held = st != null && st.getAcksWaiting() > 0 && clients.lastSendNanos() > blocked
                                && System.nanoTime() - clients.lastSendNanos() > 100_000_000L;
                    }
                    if (held) {
                        expectTail.add(p.name());
                    } else {
                        detail = p.name() + " (a divergent tail tried, not seen in time)";
                    }
                }
                int acksBefore = history.ackCount();
                note(round, f, detail, p);
                long killed = System.nanoTime();
                boards.kill(p);
                boards.cutTowards(p);
                Ack first = awaitAck("an acknowledgement from a board other than the killed primary " + p.name(),
                        FAILOVER_MILLIS, acksBefore, a -> !a.board().equals(p.name()) && a.nanos() > killed);
                failovers.add(new Failover(round, p.name(), epoch, killed, first.board(), first.epoch(), first.nanos()));
                System.out.printf(Locale.ROOT, "nemesis3: failover %s (epoch %d) -> %s (epoch %d): SIGKILL to first "
                        + "acknowledged append %.0f ms%n", p.name(), epoch, first.board(), first.epoch(),
                        (first.nanos() - killed) / 1e6);
                Thread.sleep(random.nextInt(1_500));
                boards.heal();
                boards.start(p);
            }
            case KILL_STANDBY, KILL_WITNESS -> {
                Voter v = f == Fault.KILL_WITNESS ? boards.witness() : anyOther(p, true);
                note(round, f, v.name(), p);
                boards.kill(v);
                boards.cutTowards(v);
                Thread.sleep(300 + random.nextInt(2_500));
                boards.heal();
                boards.start(v);
            }
            case PAUSE_PRIMARY, PAUSE_STANDBY, PAUSE_WITNESS -> {
                Voter v = f == Fault.PAUSE_PRIMARY ? p : f == Fault.PAUSE_WITNESS ? boards.witness() : anyOther(p, true);
                long millis = 500 + random.nextInt(4_000);
                note(round, f, v.name() + " " + millis + " ms", p);
                boards.signal(v, "STOP");
                try {
                    Thread.sleep(millis);
                } finally {
                    boards.signal(v, "CONT");
                }
            }
            case ISOLATE_PRIMARY, ISOLATE_OTHER -> {
                Voter v = f == Fault.ISOLATE_PRIMARY ? p : anyOther(p, false);
                long millis = 500 + random.nextInt(4_500);
                note(round, f, v.name() + " " + millis + " ms", p);
                boards.isolate(v);
                Thread.sleep(millis);
            }
            case PARTITION_LINK, ONE_WAY_LINK -> {
                Voter a = anyVoter();
                Voter b = anyOther(a, false);
                long millis = 500 + random.nextInt(4_500);
                note(round, f, a.name() + (f == Fault.ONE_WAY_LINK ? " -/-> " : " <-/-> ") + b.name() + " " + millis + " ms", p);
                if (f == Fault.ONE_WAY_LINK) {
                    boards.block(a, b);
                } else {
                    boards.partition(a, b);
                }
                Thread.sleep(millis);
            }
            case PRIMARY_DEAF, PRIMARY_MUTE -> {
                long millis = 500 + random.nextInt(4_500);
                note(round, f, p.name() + " " + millis + " ms", p);
                for (Voter o : boards.all()) {
                    if (o != p) {
                        if (f == Fault.PRIMARY_DEAF) {
                            boards.block(o, p);
                        } else {
                            boards.block(p, o);
                        }
                    }
                }
                Thread.sleep(millis);
            }
            case ISOLATE_PRIMARY_FROM_WITNESS -> {
                Voter w = boards.witness() != null ? boards.witness() : anyOther(p, true);
                long millis = 1_000 + random.nextInt(5_000);
                note(round, f, p.name() + " <-/-> " + w.name() + " (group link only) " + millis + " ms", p);
                boards.partition(p, w, Channel.GROUP);
                Thread.sleep(millis);
            }
        }
    }

    /** Waits for an acknowledgement at index >= {@code from} that {@code which} accepts; returns it. */
    private Ack awaitAck(String what, long millis, int from, java.util.function.Predicate<Ack> which)
            throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            List<Ack> acks = history.acks();
            for (int i = from; i < acks.size(); i++) {
                if (which.test(acks.get(i))) {
                    return acks.get(i);
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no failover: timed out after " + millis + " ms waiting for " + what);
    }

    /**
     * The group is whole: every voter's daemon runs and answers; one data board is primary in the
     * highest epoch and every other data board is its standby in that epoch holding what it
     * committed; the clients got acknowledgements since.
     */
    void awaitWhole(String when) throws InterruptedException {
        for (Voter v : boards.all()) {
            if (!boards.alive(v)) {
                throw new AssertionError(v.name() + " is not running " + when);
            }
        }
        int acks = history.ackCount();
        String[] last = {""};
        long[] since = {-1};
        await("the group whole " + when, RECOVER_MILLIS, () -> {
            last[0] = describe();
            if (!whole() || history.ackCount() < acks + 3) {
                since[0] = -1;
                return false;
            }
            if (since[0] < 0) {
                since[0] = System.nanoTime();
            }
            return System.nanoTime() - since[0] >= STABLE_MILLIS * 1_000_000L;
        }, last);
    }

    /** One line per board: role, epoch, committed position; for failure messages. */
    String describe() {
        StringBuilder s = new StringBuilder();
        for (Voter v : boards.all()) {
            StatusResponse st = VoterBoards.status(v, 1_000);
            s.append(v.name()).append('=').append(st == null ? "no answer"
                    : st.getReplicationRole() + "/e" + st.getEpoch() + "/" + st.getCommittedPosition()
                    + " group[leader=" + st.getGroupLeader() + " epoch=" + st.getGroupEpoch() + " primary="
                    + st.getGroupPrimary() + " in_sync=" + st.getInSyncList() + " reach=" + st.getVotersReachable() + "]"
                    + (st.getReplicationProblem().isEmpty() ? "" : " problem: " + st.getReplicationProblem())).append("; ");
        }
        return s.toString();
    }

    boolean whole() {
        Voter primaryBoard = null;
        StatusResponse primary = null;
        for (Voter v : boards.all()) {
            StatusResponse st = VoterBoards.status(v, 1_000);
            if (st == null) {
                return false;
            }
            if (v.holdsData() && st.getReplicationRole().equals("primary")) {
                if (primary != null) {
                    return false;
                }
                primary = st;
                primaryBoard = v;
            }
        }
        if (primary == null) {
            return false;
        }
        // In a group: it names this primary in its epoch, every data board in sync (a standby
        // out of the in-sync set cannot be promoted, so killing the primary then would be a
        // second failure, not a single one).
        if (!primary.getGroupBoard().isEmpty()) {
            // (Not the epochs compared: a log that never changed primary is in epoch 0 while the
            // group counts it as 1.)
            if (!primary.getGroupPrimary().equals(primaryBoard.name())
                    || !primary.getInSyncList().containsAll(boards.dataBoards().stream().map(Voter::name).toList())) {
                return false;
            }
        }
        // Asked after the primary: a standby holding the primary's committed position of before.
        for (Voter v : boards.dataBoards()) {
            if (v == primaryBoard) {
                continue;
            }
            StatusResponse s = VoterBoards.status(v, 1_000);
            if (s == null || !s.getReplicationRole().equals("standby") || s.getEpoch() != primary.getEpoch()
                    || s.getCommittedPosition() < primary.getCommittedPosition()) {
                return false;
            }
        }
        return true;
    }

    static void await(String what, long millis, BooleanSupplier c, String[] state) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + millis + " ms waiting for " + what
                        + (state == null ? "" : "; last seen: " + state[0]));
            }
            Thread.sleep(100);
        }
    }
}
