package io.ringstore.failover;

import io.ringstore.client.ConnectionLostException;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.failover.History.Ack;
import io.ringstore.failover.History.Ambiguity;
import io.ringstore.failover.History.Attempt;
import io.ringstore.failover.VoterBoards.Voter;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.read.Direction;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Clients appending with expected versions to whichever data board is primary, one stream each
 * ({@code c0}, {@code c1}, ...), one event per append, each event's id fixed by (seed, client,
 * version) so a retry after an unknown outcome is the same append. A watcher asks every data
 * board's status (fresh connection, bounded: a paused board never answers) every few tens of
 * milliseconds and names the primary: the board saying {@code primary} in the highest epoch. A
 * NOT_PRIMARY answer sends a client to the watcher's choice.
 */
final class GroupClients {
    private static final long APPEND_TIMEOUT_MILLIS = 5_000;
    private static final long STATUS_TIMEOUT_MILLIS = 1_000;
    /**
     * Each client's pause after an acknowledgement (-Dringstore.nemesis3.pace-ms, 0: none). Unpaced,
     * a primary acknowledging alone (in_sync = itself) in replica-memory runs at its local rate
     * and a standby that fell behind on this loaded machine never caught up to rejoin the in-sync
     * set (seen: 142,427 acknowledgements in 90 s, the standby 7.4 MB behind, never re-added).
     */
    private static final long PACE_MILLIS = Long.getLong("ringstore.nemesis3.pace-ms", 20);
    /** AppendResult.epoch() when the branch that adds AppendResponse.epoch is merged; else null. */
    private static final Method EPOCH = epochAccessor();

    private final VoterBoards boards;
    private final History history;
    private final long seed;
    private final int count;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;
    private volatile boolean quiet;
    private volatile Voter primary;
    private volatile long primaryEpoch = -1;
    /** When an append was last sent (System.nanoTime()). */
    private volatile long lastSendNanos;

    GroupClients(VoterBoards boards, History history, long seed, int count) {
        this.boards = boards;
        this.history = history;
        this.seed = seed;
        this.count = count;
    }

    static boolean epochInAnswers() {
        return EPOCH != null;
    }

    private static Method epochAccessor() {
        try {
            return AppendResult.class.getMethod("epoch");
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    void start() {
        threads.add(Thread.ofPlatform().name("nemesis3-watch").daemon().start(this::watch));
        for (int i = 0; i < count; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().name("nemesis3-client-" + i).daemon().start(() -> client(index)));
        }
    }

    /** The board the watcher last saw as primary (null before the first), and its epoch. */
    Voter primary() {
        return primary;
    }

    long lastSendNanos() {
        return lastSendNanos;
    }

    long primaryEpoch() {
        return primaryEpoch;
    }

    /** While quiet the clients send nothing (the checker reads a still store). */
    void quiet(boolean on) {
        quiet = on;
    }

    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }

    private void watch() {
        while (!stopping) {
            Voter best = null;
            long bestEpoch = -1;
            for (Voter v : boards.dataBoards()) {
                if (!boards.alive(v)) {
                    continue;
                }
                StatusResponse st = VoterBoards.status(v, STATUS_TIMEOUT_MILLIS);
                if (st != null && st.getReplicationRole().equals("primary") && st.getEpoch() > bestEpoch) {
                    best = v;
                    bestEpoch = st.getEpoch();
                }
            }
            if (best != null) {
                primary = best;
                primaryEpoch = bestEpoch;
            }
            pause(30);
        }
    }

    private void client(int index) {
        String stream = "c" + index;
        long next = 0;
        Attempt current = null;
        RingStoreClient c = null;
        Voter connectedTo = null;
        while (!stopping) {
            if (quiet) {
                pause(20);
                continue;
            }
            if (current == null) {
                byte[] id = ByteBuffer.allocate(EventData.EVENT_ID_LENGTH).putLong(seed).putInt(index).putInt((int) next).array();
                byte[] data = (stream + "@" + next + " " + "x".repeat(100 + (int) (next % 200))).getBytes(StandardCharsets.UTF_8);
                current = new Attempt(stream, next, id, data);
                history.attempted.put(current.key(), current);
            }
            Voter target = primary;
            if (target == null) {
                pause(50);
                continue;
            }
            try {
                if (c == null || connectedTo != target) {
                    c = drop(c);
                    c = RingStoreClient.connect(target.socket());
                    connectedTo = target;
                }
                history.operations.incrementAndGet();
                lastSendNanos = System.nanoTime();
                AppendResult r = c.append(stream, next == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(next - 1),
                        List.of(new EventData(current.id(), "reading", current.data(), null)))
                        .get(APPEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                long at = System.nanoTime();
                long epoch;
                boolean fromAnswer = EPOCH != null;
                if (fromAnswer) {
                    epoch = ((Number) EPOCH.invoke(r)).longValue();
                } else {
                    // Until answers carry their epoch: the board's epoch asked right after (a
                    // board's epoch only grows, so this can name a later epoch, never an earlier one).
                    epoch = c.status().get(STATUS_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).getEpoch();
                }
                if (r.firstVersion() != next) {
                    history.problems.add(stream + ": acknowledged at version " + r.firstVersion() + ", expected " + next
                            + " by " + target.name());
                }
                history.acks.add(new Ack(stream, r.firstVersion(), r.firstPosition(), current.id(), current.data(),
                        target.name(), epoch, fromAnswer, r.replayed(), at));
                history.ackedKeys.add(current.key());
                next++;
                current = null;
                if (PACE_MILLIS > 0) {
                    pause(PACE_MILLIS);
                }
            } catch (ExecutionException e) {
                ErrorCode code = e.getCause() instanceof RingStoreException x ? x.code() : null;
                if (code == ErrorCode.NOT_PRIMARY) {
                    history.notPrimary.incrementAndGet();
                    // The answer names the primary when this board knows it; the watcher's choice
                    // is kept when it knows a newer epoch.
                    if (e.getCause() instanceof io.ringstore.error.NotPrimaryException np && np.primaryBoard() != null
                            && np.primaryEpoch() >= primaryEpoch) {
                        Voter named = boards.voter(np.primaryBoard());
                        if (named != null && named.holdsData()) {
                            primary = named;
                        }
                    }
                    pause(20);
                } else if (code == ErrorCode.REPLICA_UNAVAILABLE) {
                    history.ambiguous(Ambiguity.REPLICA_UNAVAILABLE);
                    pause(20);
                } else if (code != null && code.name().equals("NO_QUORUM")) {
                    history.ambiguous(Ambiguity.NO_QUORUM);
                    pause(20);
                } else if (code == ErrorCode.WRONG_EXPECTED_VERSION) {
                    if (foundOwn(c, current, target)) {
                        next++;
                        current = null;
                    }
                } else if (e.getCause() instanceof ConnectionLostException) {
                    history.ambiguous(Ambiguity.CONNECTION_LOST);
                    c = drop(c);
                    pause(20);
                } else {
                    history.ambiguous(Ambiguity.OTHER);
                    c = drop(c);
                    pause(50);
                }
            } catch (TimeoutException e) {
                history.ambiguous(Ambiguity.TIMEOUT);
                c = drop(c);
            } catch (Exception e) {
                // Refused or dropped connections: the outcome is unknown.
                history.ambiguous(Ambiguity.CONNECTION_LOST);
                c = drop(c);
                pause(20);
            }
        }
        drop(c);
    }

    /**
     * After WRONG_EXPECTED_VERSION: the attempt may be there already (an unknown outcome kept, and
     * not recognised as a retry), at its version with its id. Another id there is a problem; nothing
     * there yet is the event written and not readable (not yet held): unknown, retried.
     */
    private boolean foundOwn(RingStoreClient c, Attempt current, Voter target) {
        try {
            List<RecordedEvent> there = c.readStream(current.stream(), current.version(), 1, Direction.FORWARD)
                    .get(APPEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).events();
            if (!there.isEmpty() && Arrays.equals(there.getFirst().eventId(), current.id())) {
                history.presentUnacked.incrementAndGet();
                return true;
            }
            if (!there.isEmpty() && there.getFirst().version() == current.version()) {
                history.problems.add(current.stream() + ": wrong expected version at " + current.version() + " on "
                        + target.name() + " and the event there is another: " + there.getFirst());
            }
            history.ambiguous(Ambiguity.NOT_VISIBLE_YET);
        } catch (Exception readFailed) {
            history.ambiguous(Ambiguity.OTHER);
        }
        pause(100);
        return false;
    }

    private static RingStoreClient drop(RingStoreClient c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a broken connection
            }
        }
        return null;
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
