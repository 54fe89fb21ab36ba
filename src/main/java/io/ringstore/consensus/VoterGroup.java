package io.ringstore.consensus;

import io.microraft.Ordered;
import io.microraft.QueryPolicy;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.exception.CannotReplicateException;
import io.microraft.exception.IndeterminateStateException;
import io.microraft.exception.LaggingCommitIndexException;
import io.microraft.exception.NotLeaderException;
import io.microraft.model.message.RaftMessage;
import io.microraft.persistence.RestoredRaftState;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.tinylog.Logger;

/**
 * This board's voter in the group that decides who leads, the epoch and the in-sync set: a
 * three-voter Raft group (MicroRaft) over {@link GroupTransport}, persisted by {@link FileRaftStore},
 * replicating one {@link GroupState}. It never carries events.
 *
 * <p>Timing. MicroRaft 0.7 counts the leader's heartbeat period and the followers' patience with
 * it in whole seconds: the heartbeat period is {@code heartbeatMillis} rounded to seconds (at least
 * 1 s), and a follower that has not heard the leader for {@code electionTimeoutMillis} rounded up
 * to seconds starts a pre-vote. A leader that has not heard a majority for as long steps down. A
 * candidate's voting round lasts a third of the election timeout (at least 500 ms) plus up to
 * 100 ms of noise. The transport pings every {@code heartbeatMillis}, which drives
 * {@link #votersReachable()}. Pre-vote and leader stickiness are MicroRaft's own: a voter that
 * still hears its leader refuses pre-votes and votes, so a voter that flaps cannot depose a
 * leader that a majority still hears.
 *
 * <p>Threads. Raft runs on MicroRaft's single thread; nothing here blocks it (sends are queued,
 * futures and {@link #onApplied} listeners are completed on two group threads of their own).
 * Futures returned by {@link #propose} and {@link #beat} complete on the "group-answers" thread:
 * a caller must not block that thread waiting for another answer.
 */
public final class VoterGroup implements AutoCloseable {
    /** How often a request that found no leader (or a leader mid-change) tries again, until its deadline. */
    static final long RETRY_MILLIS = 100;

    private final GroupOptions options;
    private final RaftEndpoint local;
    private final FileRaftStore store;
    private final GroupTransport transport;
    // Replaced together when the Raft node is restarted in place (see #watchForStuckFollower).
    private volatile GroupStateMachine stateMachine;
    private volatile RaftNode node;
    private volatile RaftThread raftThread;
    /** The newest state applied and handed to the listeners: never moves back (a restarted node replays). */
    private volatile GroupState delivered = GroupState.INITIAL;
    private final Object restartLock = new Object();
    /** The stuck-follower watch: the term and unreachable leader last seen, and since when. */
    private int watchedTerm = -1;
    private long leaderSilentSinceNanos;
    private int raftRestarts;
    private final ScheduledExecutorService timer;
    private final ExecutorService answers;
    private final ExecutorService appliedThread;
    private final List<Consumer<GroupState>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, SeenAt> beats = new ConcurrentHashMap<>();
    private final Map<Long, Consumer<GroupCodec.Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final java.util.Set<CompletableFuture<GroupState>> outstanding = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private record SeenAt(BoardBeat beat, long atNanos) {}

    private VoterGroup(GroupOptions options, FileRaftStore store, Optional<RestoredRaftState> restored) {
        this.options = options;
        this.local = new VoterEndpoint(options.board());
        this.store = store;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("group-timer").daemon().unstarted(r));
        this.answers = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("group-answers").daemon().unstarted(r));
        this.appliedThread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("group-applied").daemon().unstarted(r));
        this.transport = new GroupTransport(options.board(), options.voters(), options.sockets(), options.heartbeatMillis());
        this.node = buildNode(restored);
    }

    /** A Raft node over this voter's transport and store, with a new state machine and Raft thread. */
    private RaftNode buildNode(Optional<RestoredRaftState> restored) {
        stateMachine = new GroupStateMachine(this::appliedOnRaftThread);
        raftThread = new RaftThread(options.board());
        RaftNode.RaftNodeBuilder b = RaftNode.newBuilder().setGroupId(GroupCodec.GROUP_ID).setConfig(raftConfig(options))
                .setExecutor(raftThread)
                .setTransport(transport).setStateMachine(stateMachine).setStore(store).setModelFactory(GroupCodec.MODEL);
        if (restored.isPresent()) {
            b.setRestoredState(restored.get());
        } else {
            b.setLocalEndpoint(local).setInitialGroupMembers(
                    options.voters().keySet().stream().<RaftEndpoint>map(VoterEndpoint::new).toList());
        }
        return b.build();
    }

    /**
     * Works around a liveness bug of MicroRaft 0.7 that the three-daemon nemesis found (seed
     * -4861203970144379841): a follower that started a pre-vote and then heard the leader again
     * in the same term keeps its pre-candidate state (only a term change clears it), and while
     * it has one it never starts another pre-vote, even after that leader dies; with both
     * followers in that state the group has no leader for good. Seen from here: a known leader
     * this voter's transport has not heard for far longer than an election takes, in an
     * unchanged term. Then the Raft node is restarted in place from the store (term, vote, log
     * and snapshot: the same as after a process restart, which Raft is built for), which clears
     * that state; the listeners never see the replay ({@link #delivered} only moves forward).
     */
    private void watchForStuckFollower() {
        if (closed) {
            return;
        }
        try {
            RaftNode n = node;
            var term = n.getTerm();
            RaftEndpoint leader = term.getLeaderEndpoint();
            boolean silent = leader != null && !local.equals(leader)
                    && !transport.reachable().getOrDefault((String) leader.getId(), false);
            long now = System.nanoTime();
            if (!silent || term.getTerm() != watchedTerm) {
                watchedTerm = term.getTerm();
                leaderSilentSinceNanos = now;
                return;
            }
            if (stuck(now - leaderSilentSinceNanos, options.electionTimeoutMillis())) {
                restartRaft("leader " + leader.getId() + " unheard for "
                        + TimeUnit.NANOSECONDS.toMillis(now - leaderSilentSinceNanos) + " ms in term " + term.getTerm()
                        + " and no election started (MicroRaft 0.7 pre-candidate state left over)");
                leaderSilentSinceNanos = System.nanoTime();
            }
        } catch (RuntimeException e) {
            Logger.warn("group voter {}: stuck-follower watch: {}", options.board(), e.toString());
        }
    }

    /**
     * Whether a leader unheard for {@code silentNanos} in one term means this follower is stuck:
     * MicroRaft notices a silent leader within its heartbeat timeout (the election timeout
     * rounded up to seconds) and then pre-votes, so four election timeouts and two seconds is
     * far past any election that was going to happen.
     */
    static boolean stuck(long silentNanos, long electionTimeoutMillis) {
        return silentNanos > TimeUnit.MILLISECONDS.toNanos(4 * electionTimeoutMillis + 2_000);
    }

    /** Stops the Raft node and starts a new one from the store (package-private for tests). */
    void restartRaft(String why) {
        synchronized (restartLock) {
            if (closed) {
                return;
            }
            Logger.warn("group voter {}: restarting its Raft node from its store: {}", options.board(), why);
            try {
                node.terminate().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                Logger.warn("group voter {}: Raft did not stop cleanly before the restart: {}", options.board(), e.toString());
            }
            try {
                RaftNode next = buildNode(store.restored());
                node = next;
                next.start().get(30, TimeUnit.SECONDS);
                raftRestarts++;
            } catch (Exception e) {
                Logger.error("group voter {}: restarting Raft failed (the voter is out of the group until the daemon "
                        + "restarts): {}", options.board(), e.toString());
            }
        }
    }

    /** How often the Raft node was restarted in place (for status and tests). */
    public int raftRestarts() {
        return raftRestarts;
    }

    static RaftConfig raftConfig(GroupOptions o) {
        long periodSecs = Math.max(1, Math.round(o.heartbeatMillis() / 1000.0));
        long timeoutSecs = Math.max(periodSecs + 1, (o.electionTimeoutMillis() + 999) / 1000);
        return RaftConfig.newBuilder()
                .setLeaderHeartbeatPeriodSecs(periodSecs)
                .setLeaderHeartbeatTimeoutSecs(timeoutSecs)
                .setLeaderElectionTimeoutMillis(Math.max(500, o.electionTimeoutMillis() / 3))
                // The state is one small record; snapshots keep the log (and the store file) short.
                .setCommitCountToTakeSnapshot(100)
                .setMaxPendingLogEntryCount(100)
                .setAppendEntriesRequestBatchSize(100)
                .build();
    }

    /**
     * Starts this voter: restores its state from {@code stateDir} if it has any (else bootstraps
     * with {@code voters} as the group), listens on {@code listen} and connects to the others.
     *
     * @throws IOException when the state folder cannot be read or belongs to another board or
     *                     another set of voters, or the listen address cannot be bound
     */
    public static VoterGroup start(GroupOptions options) throws IOException {
        FileRaftStore store = FileRaftStore.open(options.stateDir());
        VoterGroup g;
        try {
            Optional<RestoredRaftState> restored = store.restored();
            if (restored.isPresent()) {
                String board = store.persistedBoard().orElse("");
                if (!board.equals(options.board())) {
                    throw new IOException("group state in " + options.stateDir() + " belongs to voter " + board
                            + ", not " + options.board());
                }
                if (!new HashSet<>(store.persistedVoters()).equals(options.voters().keySet())) {
                    throw new IOException("group state in " + options.stateDir() + " was made for the voters "
                            + store.persistedVoters() + ", but the voters are now " + options.voters().keySet()
                            + " (changing the voters is not supported: stop every voter and empty every voter's state folder)");
                }
            }
            g = new VoterGroup(options, store, restored);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        try {
            g.transport.start(options.listen(), g.new Inbound());
        } catch (IOException | RuntimeException e) {
            g.abandon();
            throw e;
        }
        try {
            g.node.start().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            g.close();
            throw new IOException("group voter " + options.board() + " did not start: " + e.getMessage(), e);
        }
        long every = Math.max(500, options.electionTimeoutMillis());
        g.timer.scheduleWithFixedDelay(g::watchForStuckFollower, every, every, TimeUnit.MILLISECONDS);
        Logger.info("group voter {} started: voters={} listen={} state={} restored_index={} epoch={} primary={}",
                options.board(), options.voters().keySet(), g.transport.localAddress(), options.stateDir(),
                g.committed().index(), g.committed().epoch(), g.committed().primary());
        return g;
    }

    /** Where this voter listens (with the real port when port 0 was asked for). */
    public InetSocketAddress listenAddress() {
        return transport.localAddress();
    }

    public String board() {
        return options.board();
    }

    /** The last state applied on this voter (may lag the leader). */
    public GroupState committed() {
        return delivered;
    }

    /**
     * Forwarded to the leader; completes with the state after it applied (unchanged when its
     * precondition failed); fails with {@link GroupUnavailableException} when no leader took it
     * within {@code requestTimeoutMillis} (it may still commit: read the state again).
     */
    public CompletableFuture<GroupState> propose(GroupChange change) {
        return request(change.toString(), new Attempt() {
            @Override
            CompletableFuture<Ordered<GroupState>> locally() {
                return node.replicate(change);
            }

            @Override
            byte[] frame(long id) {
                return GroupCodec.propose(id, change);
            }
        });
    }

    /**
     * Sent to the leader (forwarded if this voter is not it); the leader records it ({@link #beatsSeen})
     * and answers with a linearizable read of the state (the leader confirms its leadership with a
     * majority before answering), so a primary can hold a lease from it.
     */
    public CompletableFuture<GroupState> beat(BoardBeat beat) {
        return request("beat from " + beat.board(), new Attempt() {
            @Override
            CompletableFuture<Ordered<GroupState>> locally() {
                return leaderBeat(beat);
            }

            @Override
            byte[] frame(long id) {
                return GroupCodec.beat(id, beat);
            }
        });
    }

    private CompletableFuture<Ordered<GroupState>> leaderBeat(BoardBeat beat) {
        beats.put(beat.board(), new SeenAt(beat, System.nanoTime()));
        return linearizableRead();
    }

    /** The group state read through the leader (see {@link #readAsLeader}). */
    private CompletableFuture<Ordered<GroupState>> linearizableRead() {
        return node.query(GroupOps.Read.INSTANCE, QueryPolicy.LINEARIZABLE, Optional.empty(), Optional.empty());
    }

    /**
     * On the leader: the state once this voter has applied everything the group committed before
     * its term (a linearizable read: MicroRaft runs it only after the leader's own term entry is
     * committed, and on the state machine applied through it). Fails elsewhere, and on a leader
     * that has not committed in its term yet: ask again later.
     */
    public CompletableFuture<GroupState> readAsLeader() {
        return linearizableRead().thenApply(Ordered::getResult);
    }

    public boolean isLeader() {
        return !closed && local.equals(node.getTerm().getLeaderEndpoint());
    }

    /** The leader's name, "" when unknown. */
    public String leader() {
        RaftEndpoint l = closed ? null : node.getTerm().getLeaderEndpoint();
        return l == null ? "" : (String) l.getId();
    }

    /** The Raft term this voter is in (for status and tests). */
    public int term() {
        return node.getTerm().getTerm();
    }

    /** On the leader: the latest beat per board (empty elsewhere). */
    public Map<String, BeatSeen> beatsSeen() {
        if (!isLeader()) {
            return Map.of();
        }
        long now = System.nanoTime();
        Map<String, BeatSeen> m = new LinkedHashMap<>();
        beats.forEach((board, s) -> m.put(board, new BeatSeen(s.beat(), TimeUnit.NANOSECONDS.toMillis(now - s.atNanos()))));
        return m;
    }

    /** Per other voter, from this voter's transport: heard from within about three heartbeats. */
    public Map<String, Boolean> votersReachable() {
        return transport.reachable();
    }

    /**
     * Called on the "group-applied" thread after each applied change, in order, and once right away
     * with the state applied so far (at start: the restored state).
     */
    public void onApplied(Consumer<GroupState> listener) {
        listeners.add(listener);
        GroupState now = committed();
        appliedThread.execute(() -> tell(listener, now));
    }

    private void appliedOnRaftThread(GroupState s) {
        if (closed) {
            return;
        }
        synchronized (listeners) {
            // A restarted node replays the snapshot and log: states already delivered are not news.
            if (s.index() <= delivered.index() && delivered != GroupState.INITIAL) {
                return;
            }
            delivered = s;
        }
        for (Consumer<GroupState> l : listeners) {
            appliedThread.execute(() -> tell(l, s));
        }
    }

    private static void tell(Consumer<GroupState> l, GroupState s) {
        try {
            l.accept(s);
        } catch (RuntimeException e) {
            Logger.error(e, "group state listener failed on {}", s);
        }
    }

    // ---------------------------------------------------------------- requests: local or forwarded

    /** One way of running a request: on this voter when it leads, or as a frame to the leader. */
    private abstract static class Attempt {
        abstract CompletableFuture<Ordered<GroupState>> locally();

        abstract byte[] frame(long id);
    }

    private CompletableFuture<GroupState> request(String what, Attempt attempt) {
        CompletableFuture<GroupState> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new GroupUnavailableException("voter " + options.board() + " is closed"));
            return result;
        }
        outstanding.add(result);
        result.whenComplete((s, e) -> outstanding.remove(result));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.requestTimeoutMillis());
        try {
            timer.schedule(() -> fail(result, new GroupUnavailableException("no answer from the group within "
                + options.requestTimeoutMillis() + " ms to " + what + " (leader: " + leaderOrNone() + ")")),
                options.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            fail(result, new GroupUnavailableException("voter " + options.board() + " is closed"));
            return result;
        }
        tryOnce(what, attempt, result, deadline);
        return result;
    }

    private String leaderOrNone() {
        String l = leader();
        return l.isEmpty() ? "none known" : l;
    }

    private void tryOnce(String what, Attempt attempt, CompletableFuture<GroupState> result, long deadline) {
        if (result.isDone()) {
            return;
        }
        if (closed) {
            fail(result, new GroupUnavailableException("voter " + options.board() + " is closed"));
            return;
        }
        RaftEndpoint leader = node.getTerm().getLeaderEndpoint();
        if (leader == null) {
            retryLater(what, attempt, result, deadline);
        } else if (leader.equals(local)) {
            attempt.locally().whenComplete((ordered, error) -> {
                if (error == null) {
                    succeed(result, ordered.getResult());
                } else if (retryable(unwrap(error))) {
                    retryLater(what, attempt, result, deadline);
                } else {
                    fail(result, unavailable(what, unwrap(error)));
                }
            });
        } else {
            long id = requestIds.incrementAndGet();
            pending.put(id, reply -> {
                switch (reply.outcome()) {
                    case GroupCodec.OUTCOME_DONE -> succeed(result, reply.state());
                    case GroupCodec.OUTCOME_NOT_LEADER -> retryLater(what, attempt, result, deadline);
                    default -> fail(result, new GroupUnavailableException(what + " failed on leader " + leader.getId()
                            + ": " + reply.message()));
                }
            });
            result.whenComplete((s, e) -> pending.remove(id));
            if (!transport.send((String) leader.getId(), attempt.frame(id))) {
                pending.remove(id);
                retryLater(what, attempt, result, deadline);
            }
        }
    }

    private void retryLater(String what, Attempt attempt, CompletableFuture<GroupState> result, long deadline) {
        if (closed) {
            fail(result, new GroupUnavailableException("voter " + options.board() + " is closed"));
            return;
        }
        if (result.isDone() || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS) > deadline) {
            return; // the deadline's timer fails it
        }
        try {
            timer.schedule(() -> tryOnce(what, attempt, result, deadline), RETRY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            fail(result, new GroupUnavailableException("voter " + options.board() + " is closed"));
        }
    }

    /** Not taken, and nothing was started: another attempt (perhaps at another leader) is safe. */
    private static boolean retryable(Throwable e) {
        return e instanceof NotLeaderException || e instanceof CannotReplicateException
                || e instanceof LaggingCommitIndexException;
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private GroupUnavailableException unavailable(String what, Throwable e) {
        String why = e instanceof IndeterminateStateException
                ? "the leader lost its leadership before it knew whether the change committed"
                : e instanceof TimeoutException ? "timed out" : String.valueOf(e.getMessage());
        return new GroupUnavailableException(what + ": " + why, e);
    }

    private void succeed(CompletableFuture<GroupState> f, GroupState s) {
        answer(() -> f.complete(s));
    }

    private void fail(CompletableFuture<GroupState> f, Throwable e) {
        answer(() -> f.completeExceptionally(e));
    }

    private void answer(Runnable r) {
        try {
            answers.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            r.run(); // closing: complete on this thread rather than never
        }
    }

    /** What arrives from the other voters (on transport reader threads; nothing here blocks). */
    private final class Inbound implements GroupTransport.Inbound {
        @Override
        public void raft(RaftMessage message) {
            node.handle(message);
        }

        @Override
        public void propose(String from, long requestId, GroupChange change) {
            serve(from, requestId, () -> node.replicate(change));
        }

        @Override
        public void beat(String from, long requestId, BoardBeat beat) {
            serve(from, requestId, () -> leaderBeat(beat));
        }

        @Override
        public void reply(GroupCodec.Reply reply) {
            Consumer<GroupCodec.Reply> c = pending.remove(reply.requestId());
            if (c != null) {
                c.accept(reply);
            }
        }

        private void serve(String from, long id, java.util.function.Supplier<CompletableFuture<Ordered<GroupState>>> run) {
            if (!isLeader()) {
                transport.send(from, GroupCodec.reply(new GroupCodec.Reply(id, GroupCodec.OUTCOME_NOT_LEADER, null,
                        leader(), "not the leader")));
                return;
            }
            run.get().whenComplete((ordered, error) -> {
                GroupCodec.Reply r;
                if (error == null) {
                    r = new GroupCodec.Reply(id, GroupCodec.OUTCOME_DONE, ordered.getResult(), leader(), "");
                } else if (retryable(unwrap(error))) {
                    r = new GroupCodec.Reply(id, GroupCodec.OUTCOME_NOT_LEADER, null, leader(), String.valueOf(unwrap(error)));
                } else {
                    r = new GroupCodec.Reply(id, GroupCodec.OUTCOME_FAILED, null, leader(),
                            unavailable("forwarded request", unwrap(error)).getMessage());
                }
                transport.send(from, GroupCodec.reply(r));
            });
        }
    }

    /** Undoes a start that failed before Raft ran. */
    private void abandon() {
        closed = true;
        transport.close();
        raftThread.shutdownNow();
        timer.shutdownNow();
        answers.shutdown();
        appliedThread.shutdown();
        try {
            store.close();
        } catch (IOException e) {
            Logger.warn("group voter {}: closing the store: {}", options.board(), e.getMessage());
        }
    }

    /** Stops this voter: Raft first (it may still write its store), then the network, then the store. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        synchronized (restartLock) { // not while a restart starts a new node
            closed = true;
            try {
                node.terminate().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                Logger.warn("group voter {}: Raft did not stop cleanly: {}", options.board(), e.toString());
            }
        }
        transport.close();
        try {
            store.close();
        } catch (IOException e) {
            Logger.warn("group voter {}: closing the store: {}", options.board(), e.getMessage());
        }
        timer.shutdownNow();
        for (Consumer<GroupCodec.Reply> c : pending.values()) {
            c.accept(new GroupCodec.Reply(0, GroupCodec.OUTCOME_FAILED, null, "", "voter closed"));
        }
        pending.clear();
        for (CompletableFuture<GroupState> f : outstanding) {
            f.completeExceptionally(new GroupUnavailableException("voter " + options.board() + " is closed"));
        }
        answers.shutdown();
        appliedThread.shutdown();
        Logger.info("group voter {} closed", options.board());
    }
}
