package io.ringstore.replication;

import static io.ringstore.replication.DaemonBoards.await;
import static io.ringstore.replication.DaemonBoards.connect;
import static io.ringstore.replication.DaemonBoards.freshStatus;
import static io.ringstore.replication.DaemonBoards.kill;
import static io.ringstore.replication.DaemonBoards.status;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.protocol.v1.PromoteResponse;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.read.Direction;
import io.ringstore.replication.DaemonBoards.Board;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The seeded nemesis run of issue 15: two real daemons (b1 primary, b2 standby), each board's
 * replication connections through a {@link FaultProxy} in front of the other board's port (the
 * standby pulls from the primary through one; the primary's probes reach the standby through the
 * other), clients appending with expected versions through the primary, and a seeded nemesis
 * applying one fault at a time: SIGKILL the standby and restart it, SIGSTOP it 1-3 s, partition
 * one way or both 1-3 s, and SIGKILL the primary then {@code promote} the standby (the old primary
 * restarted as configured, as primary, must find the newer epoch and rejoin as a standby), or
 * partition the primary both ways, promote the standby while the old primary still runs and a
 * stale client still appends to it, and heal (it must acknowledge nothing past the new epoch's
 * start, be fenced and rejoin).
 * The
 * last round is always that promotion, made with the standby cut off from the primary's newest
 * appends first, so the old primary has a divergent tail to set aside.
 *
 * <p>Then heal and check: every acknowledged event is on the final primary at its acknowledged
 * version and position with its data; nothing appears that was not attempted, and nothing twice;
 * no epoch has acknowledgements from two boards; both boards hold the same records at the same
 * positions; the divergent tail is in a file in the data folder, named in status and the journal.
 *
 * <p>{@code -Dringstore.nemesis.seed=S} replays a seed (every failure names it),
 * {@code -Dringstore.nemesis.rounds=N} sets the rounds (default 6),
 * {@code -Dringstore.nemesis.faults=KILL_STANDBY,PARTITION_BOTH} limits the random rounds to those
 * kinds (the last round is always KILL_PRIMARY_AND_PROMOTE), {@code -Dringstore.nemesis.verbose=true}
 * echoes the daemons' replication lines.
 */
@Timeout(600)
class NemesisTest {
    private static final int CLIENTS = 3;
    private static final long ACK_TIMEOUT_MILLIS = 1_000;

    @TempDir
    Path dir;

    @TempDir
    static Path keys;

    @BeforeAll
    static void makeKeys() throws Exception {
        DaemonBoards.makeKeys(keys, "b1", "b2");
    }

    enum Fault { KILL_STANDBY, PAUSE_STANDBY, PARTITION_STANDBY_TO_PRIMARY, PARTITION_PRIMARY_TO_STANDBY, PARTITION_BOTH,
        KILL_PRIMARY_AND_PROMOTE, PARTITION_PRIMARY_AND_PROMOTE }

    @ParameterizedTest
    @ValueSource(strings = {"replica-memory", "replica-durable"})
    void noAcknowledgedEventIsLostAndTheBoardsConverge(String mode) throws Exception {
        long seed = Long.getLong("ringstore.nemesis.seed", new SecureRandom().nextLong());
        int rounds = Integer.getInteger("ringstore.nemesis.rounds", 6);
        System.out.println("nemesis: seed=" + seed + " mode=" + mode + " rounds=" + rounds
                + " (replay with -Dringstore.nemesis.seed=" + seed + ")");
        long began = System.nanoTime();
        try (DaemonBoards boards = new DaemonBoards(dir, keys)) {
            Run run = new Run(boards, mode, seed);
            try {
                run.go(rounds);
            } catch (Throwable t) {
                boards.printJournalTails(150);
                throw t;
            } finally {
                run.stop();
                System.out.println(run.summary((System.nanoTime() - began) / 1_000_000));
            }
        } catch (Throwable t) {
            throw new AssertionError("nemesis seed=" + seed + " mode=" + mode + " (replay with -Dringstore.nemesis.seed="
                    + seed + "): " + t, t);
        }
    }

    /** One acknowledgement: what the client was told, and which board in which epoch told it. */
    record Ack(String stream, long version, long position, byte[] id, byte[] data, String board, long epoch, boolean replayed) {}

    /** An event a client tried to append (its id is fixed, so retries are idempotent). */
    record Attempt(String stream, long version, byte[] id, byte[] data) {
        String key() {
            return Arrays.toString(id);
        }
    }

    private static final class Run {
        final DaemonBoards boards;
        final String mode;
        final long seed;
        final Random random;
        final Board b1;
        final Board b2;
        /** Proxies in front of each board's replication port, by board name: the other board connects through it. */
        final Map<String, FaultProxy> inFrontOf = new HashMap<>();
        final Map<String, Process> processes = new ConcurrentHashMap<>();
        volatile Board primary;
        volatile Board standby;
        volatile boolean stopping;
        volatile boolean quietClients;
        /** While set, client 0 appends here (a client that has not heard of the promotion). */
        volatile Board stale;
        volatile long staleStart;
        final AtomicLong lateAcks = new AtomicLong();
        final List<Thread> clients = new ArrayList<>();
        final List<Ack> acks = java.util.Collections.synchronizedList(new ArrayList<>());
        final Map<String, Attempt> attempted = new ConcurrentHashMap<>();
        final Set<String> ackedKeys = ConcurrentHashMap.newKeySet();
        final AtomicLong operations = new AtomicLong();
        final AtomicLong ambiguous = new AtomicLong();
        final AtomicLong notPrimary = new AtomicLong();
        final AtomicLong presentUnacked = new AtomicLong();
        final Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
        final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
        long lost = -1;
        int divergedFiles;
        final String[] extra = {"--replica-ack-timeout-ms", Long.toString(ACK_TIMEOUT_MILLIS)};

        Run(DaemonBoards boards, String mode, long seed) throws Exception {
            this.boards = boards.echo(Boolean.getBoolean("ringstore.nemesis.verbose"));
            this.mode = mode;
            this.seed = seed;
            this.random = new Random(seed);
            this.b1 = boards.board("b1");
            this.b2 = boards.board("b2");
            inFrontOf.put("b1", FaultProxy.start(b1.replicationAddress(), seed + 1));
            inFrontOf.put("b2", FaultProxy.start(b2.replicationAddress(), seed + 2));
        }

        Board other(Board b) {
            return b == b1 ? b2 : b1;
        }

        /** Starts a board configured with {@code role}, its peer reached through the proxy in front of the peer. */
        void start(Board me, String role) throws Exception {
            Board peer = other(me);
            InetSocketAddress through = inFrontOf.get(peer.name()).address();
            processes.put(me.name(), boards.start(me, peer.name(), through, role, mode, extra));
        }

        void go(int rounds) throws Exception {
            primary = b1;
            standby = b2;
            start(b1, "primary");
            start(b2, "standby");
            connect(b1).close();
            connect(b2).close();
            for (int i = 0; i < CLIENTS; i++) {
                int client = i;
                clients.add(Thread.ofPlatform().name("nemesis-client-" + i).start(() -> client(client)));
            }
            awaitStandbyCaughtUp();
            String only = System.getProperty("ringstore.nemesis.faults", "");
            List<Fault> kinds = only.isBlank() ? List.of(Fault.values())
                    : Arrays.stream(only.split(",")).map(String::strip).map(Fault::valueOf).toList();
            for (int round = 1; round <= rounds; round++) {
                Thread.sleep(300 + random.nextInt(700));
                Fault f = round == rounds ? Fault.KILL_PRIMARY_AND_PROMOTE : kinds.get(random.nextInt(kinds.size()));
                faults.merge(f, 1, Integer::sum);
                System.out.println("nemesis round " + round + ": " + f + " (primary " + primary.name() + ")");
                apply(f, round == rounds);
            }
            // Let the new pair take a few acknowledgements, then stop the clients and check.
            long acked = acks.size();
            await("acknowledgements after the last fault", 30_000, () -> acks.size() >= acked + CLIENTS);
            stopClients();
            for (FaultProxy p : inFrontOf.values()) {
                p.heal();
            }
            check();
        }

        void apply(Fault f, boolean last) throws Exception {
            switch (f) {
                case KILL_STANDBY -> {
                    kill(processes.get(standby.name()));
                    Thread.sleep(200 + random.nextInt(1_500));
                    start(standby, "standby");
                    connect(standby).close();
                }
                case PAUSE_STANDBY -> {
                    Process p = processes.get(standby.name());
                    DaemonBoards.signal(p, "STOP");
                    try {
                        Thread.sleep(1_000 + random.nextInt(2_000));
                    } finally {
                        DaemonBoards.signal(p, "CONT");
                    }
                }
                case PARTITION_STANDBY_TO_PRIMARY, PARTITION_PRIMARY_TO_STANDBY, PARTITION_BOTH -> {
                    partition(f);
                    Thread.sleep(1_000 + random.nextInt(2_000));
                    for (FaultProxy p : inFrontOf.values()) {
                        p.heal();
                    }
                }
                case KILL_PRIMARY_AND_PROMOTE -> killPrimaryAndPromote(last || random.nextBoolean(), last || random.nextBoolean());
                case PARTITION_PRIMARY_AND_PROMOTE -> partitionPrimaryAndPromote();
            }
        }

        void partition(Fault f) {
            // The standby's connections to the primary go through the proxy in front of the
            // primary (TO_TARGET: standby to primary); the primary's probes through the one in
            // front of the standby (TO_TARGET: primary to standby).
            FaultProxy toPrimary = inFrontOf.get(primary.name());
            FaultProxy toStandby = inFrontOf.get(standby.name());
            if (f != Fault.PARTITION_PRIMARY_TO_STANDBY) {
                toPrimary.partition(FaultProxy.Direction.TO_TARGET);
                toStandby.partition(FaultProxy.Direction.FROM_TARGET);
            }
            if (f != Fault.PARTITION_STANDBY_TO_PRIMARY) {
                toPrimary.partition(FaultProxy.Direction.FROM_TARGET);
                toStandby.partition(FaultProxy.Direction.TO_TARGET);
            }
        }

        void awaitStandbyCaughtUp() throws Exception {
            try (RingStoreClient p = connect(primary); RingStoreClient s = connect(standby)) {
                long end = status(p).getCommittedPosition();
                await("standby " + standby.name() + " holds position " + end, 60_000, () -> {
                    StatusResponse st = status(s);
                    return st.getReplicationRole().equals("standby") && st.getCommittedPosition() >= end;
                });
            }
        }

        /**
         * Kills the primary, when {@code tail} after cutting the standby off from its newest appends
         * (so the old primary's log runs past what the standby holds: a divergent tail), promotes the
         * standby, and restarts the old primary configured as primary: it must follow.
         */
        void killPrimaryAndPromote(boolean tail, boolean quiet) throws Exception {
            awaitStandbyCaughtUp();
            Board old = primary;
            Board next = standby;
            System.out.println("nemesis: promotion " + (tail ? "with" : "without") + " a divergent tail, "
                    + (quiet ? "clients quiet until the old primary follows" : "clients appending throughout"));
            if (tail) {
                inFrontOf.get(old.name()).partition(FaultProxy.Direction.FROM_TARGET);
                long before = ambiguous.get();
                // An append refused REPLICA_UNAVAILABLE is in the primary's log and not the standby's.
                await("an append the standby does not hold", 30_000, () -> ambiguous.get() > before);
            }
            // Quiet: no append reaches the new primary before the old one follows it, so the
            // old primary's hello meets a board whose log so far is only what it applied.
            quietClients = quiet;
            kill(processes.get(old.name()));
            // The old primary's board is gone, and with it the bytes the partition held back (a
            // healed proxy would deliver them, as a live sender's retransmissions would): reset
            // its connections; the standby is promoted while the old primary's port is dark.
            inFrontOf.get(old.name()).cut(FaultProxy.WhileCut.REFUSE);
            PromoteResponse promoted;
            try (RingStoreClient s = connect(next)) {
                promoted = s.promote(false).get(30, TimeUnit.SECONDS);
            }
            for (FaultProxy p : inFrontOf.values()) {
                p.heal();
            }
            System.out.println("nemesis: promoted " + next.name() + " to epoch " + promoted.getEpoch() + ": " + promoted.getMessage());
            assertTrue(promoted.getMessage().startsWith("safe"), promoted.getMessage());
            primary = next;
            standby = old;
            start(old, "primary");
            long epoch = promoted.getEpoch();
            await("old primary " + old.name() + " rejoins as a standby in epoch " + epoch, 60_000, () -> {
                StatusResponse st = freshStatus(old);
                return st != null && st.getReplicationRole().equals("standby") && st.getEpoch() == epoch;
            });
            long start = promoted.getStartPosition();
            await("the new primary " + next.name() + " ships to " + old.name() + " (held >= " + start + ")", 30_000, () -> {
                StatusResponse st = freshStatus(next);
                return st != null && st.getReplicationPeersList().stream().anyMatch(l -> l.startsWith("standby " + old.name()
                        + " connected") && held(l) >= start);
            });
            quietClients = false;
        }

        static long held(String peerLine) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("held=(\\d+)").matcher(peerLine);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        /**
         * The split-brain attempt: the primary is cut off both ways but keeps running, the standby
         * is promoted, and one client keeps appending to the old primary (as a client with a
         * stale view would) while the others move to the new one. The old primary must not
         * acknowledge anything (its standby no longer follows it); once healed its probe finds
         * the newer epoch, it is fenced and rejoins as a standby without a restart.
         */
        void partitionPrimaryAndPromote() throws Exception {
            awaitStandbyCaughtUp();
            Board old = primary;
            Board next = standby;
            partition(Fault.PARTITION_BOTH);
            long before = ambiguous.get();
            await("an append the standby does not hold", 30_000, () -> ambiguous.get() > before);
            PromoteResponse promoted;
            try (RingStoreClient s = connect(next)) {
                promoted = s.promote(false).get(30, TimeUnit.SECONDS);
            }
            System.out.println("nemesis: promoted " + next.name() + " (old primary alive, partitioned) to epoch "
                    + promoted.getEpoch() + ": " + promoted.getMessage());
            assertTrue(promoted.getMessage().startsWith("safe"), promoted.getMessage());
            staleStart = promoted.getStartPosition();
            stale = old;
            primary = next;
            standby = old;
            Thread.sleep(1_000 + random.nextInt(2_000));
            for (FaultProxy p : inFrontOf.values()) {
                p.heal();
            }
            long epoch = promoted.getEpoch();
            await("fenced old primary " + old.name() + " rejoins as a standby in epoch " + epoch, 60_000, () -> {
                StatusResponse st = freshStatus(old);
                return st != null && st.getReplicationRole().equals("standby") && st.getEpoch() == epoch;
            });
            stale = null;
            long start = promoted.getStartPosition();
            await("the new primary " + next.name() + " ships to " + old.name() + " (held >= " + start + ")", 30_000, () -> {
                StatusResponse st = freshStatus(next);
                return st != null && st.getReplicationPeersList().stream().anyMatch(l -> l.startsWith("standby " + old.name()
                        + " connected") && held(l) >= start);
            });
        }

        // ------------------------------------------------------------------ clients

        void client(int index) {
            String stream = "c" + index;
            long next = 0;
            Attempt current = null;
            RingStoreClient c = null;
            Board connectedTo = null;
            while (!stopping) {
                if (quietClients) {
                    pause(20);
                    continue;
                }
                if (current == null) {
                    byte[] id = ByteBuffer.allocate(EventData.EVENT_ID_LENGTH).putLong(seed).putInt(index).putInt((int) next).array();
                    byte[] data = (stream + "@" + next + " " + "x".repeat(100 + (int) (next % 200))).getBytes(StandardCharsets.UTF_8);
                    current = new Attempt(stream, next, id, data);
                    attempted.put(current.key(), current);
                }
                Board staleBoard = stale;
                Board target = index == 0 && staleBoard != null ? staleBoard : primary;
                try {
                    if (c == null || connectedTo != target) {
                        if (c != null) {
                            c.close();
                        }
                        c = null;
                        c = RingStoreClient.connect(target.socket());
                        connectedTo = target;
                    }
                    operations.incrementAndGet();
                    AppendResult r = c.append(stream, next == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(next - 1),
                            List.of(new EventData(current.id(), "reading", current.data(), null))).get(15, TimeUnit.SECONDS);
                    StatusResponse st = c.status().get(10, TimeUnit.SECONDS);
                    if (r.firstVersion() != next) {
                        problems.add(stream + ": acknowledged at version " + r.firstVersion() + ", expected " + next);
                    }
                    if (target == staleBoard) {
                        // Allowed only for an event the promoted board already held (a retry
                        // whose standby report the partition delayed): below the new epoch's start.
                        lateAcks.incrementAndGet();
                        if (r.lastPosition() >= staleStart) {
                            problems.add("the old primary " + target.name() + " acknowledged " + stream + "@" + r.firstVersion()
                                    + " at position " + r.lastPosition() + " after the standby was promoted at " + staleStart
                                    + " (its epoch " + st.getEpoch() + ", replayed=" + r.replayed() + ")");
                        }
                    }
                    acks.add(new Ack(stream, r.firstVersion(), r.firstPosition(), current.id(), current.data(), target.name(),
                            st.getEpoch(), r.replayed()));
                    ackedKeys.add(current.key());
                    next++;
                    current = null;
                } catch (ExecutionException e) {
                    ErrorCode code = e.getCause() instanceof RingStoreException x ? x.code() : null;
                    if (code == ErrorCode.REPLICA_UNAVAILABLE) {
                        ambiguous.incrementAndGet();
                    } else if (code == ErrorCode.NOT_PRIMARY) {
                        notPrimary.incrementAndGet();
                        pause(100);
                    } else if (code == ErrorCode.WRONG_EXPECTED_VERSION) {
                        // The event may already be there (an unknown outcome the board kept,
                        // not recognised as a retry): it is then at version next with our id.
                        try {
                            List<RecordedEvent> there = c.readStream(stream, next, 1, Direction.FORWARD).get(10, TimeUnit.SECONDS).events();
                            if (!there.isEmpty() && Arrays.equals(there.getFirst().eventId(), current.id())) {
                                presentUnacked.incrementAndGet();
                                next++;
                                current = null;
                            } else {
                                problems.add(stream + ": wrong expected version at " + next + " on " + target.name()
                                        + " and the event there is " + (there.isEmpty() ? "none" : there.getFirst()) + ": " + e.getCause());
                                pause(500);
                            }
                        } catch (Exception readFailed) {
                            ambiguous.incrementAndGet();
                            c = drop(c);
                        }
                    } else {
                        ambiguous.incrementAndGet();
                        c = drop(c);
                        pause(100);
                    }
                } catch (Exception e) {
                    // Timeout, connection refused or dropped: the outcome is unknown.
                    ambiguous.incrementAndGet();
                    c = drop(c);
                    pause(100);
                }
            }
            drop(c);
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

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void stopClients() throws InterruptedException {
            stopping = true;
            for (Thread t : clients) {
                t.join(30_000);
            }
        }

        void stop() throws Exception {
            stopClients();
            for (Process p : processes.values()) {
                if (p.isAlive()) {
                    new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start();
                }
            }
            for (FaultProxy p : inFrontOf.values()) {
                p.close();
            }
        }

        // ------------------------------------------------------------------ checks

        static List<RecordedEvent> readAll(RingStoreClient c) throws Exception {
            List<RecordedEvent> all = new ArrayList<>();
            long from = 0;
            while (true) {
                AllPage page = c.readAll(from, 500).get(30, TimeUnit.SECONDS);
                all.addAll(page.events());
                if (page.end() || page.events().isEmpty()) {
                    return all;
                }
                from = page.nextPosition();
            }
        }

        static List<RecordedEvent> readStream(RingStoreClient c, String stream) throws Exception {
            List<RecordedEvent> all = new ArrayList<>();
            long from = 0;
            while (true) {
                var page = c.readStream(stream, from, 500, Direction.FORWARD).get(30, TimeUnit.SECONDS);
                all.addAll(page.events());
                if (page.endOfStream() || page.events().isEmpty()) {
                    return all;
                }
                from = page.nextVersion();
            }
        }

        void check() throws Exception {
            assertTrue(problems.isEmpty(), "client saw: " + problems);
            // Converged: the standby holds what the primary committed, the same records.
            awaitStandbyCaughtUp();
            try (RingStoreClient p = connect(primary); RingStoreClient s = connect(standby)) {
                StatusResponse ps = status(p);
                StatusResponse ss = status(s);
                assertEquals("primary", ps.getReplicationRole());
                assertEquals("standby", ss.getReplicationRole());
                assertEquals(ps.getEpoch(), ss.getEpoch(), "both boards in the same epoch");

                // (1) every acknowledged event is on the final primary where it was acknowledged.
                lost = 0;
                List<String> lostOnes = new ArrayList<>();
                for (Ack a : acks) {
                    List<RecordedEvent> e = p.readStream(a.stream(), a.version(), 1, Direction.FORWARD).get(10, TimeUnit.SECONDS).events();
                    if (e.isEmpty() || e.getFirst().version() != a.version() || e.getFirst().position() != a.position()
                            || !Arrays.equals(e.getFirst().eventId(), a.id()) || !Arrays.equals(e.getFirst().data(), a.data())) {
                        lost++;
                        lostOnes.add(a.stream() + "@" + a.version() + " pos " + a.position() + " acked by " + a.board()
                                + " epoch " + a.epoch() + " -> " + (e.isEmpty() ? "missing" : e.getFirst()));
                    }
                }
                assertEquals(0, lost, "acknowledged events lost or moved: " + lostOnes);

                // (2) nothing unattempted, nothing twice; streams contiguous.
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < CLIENTS; i++) {
                    List<RecordedEvent> events = readStream(p, "c" + i);
                    for (int v = 0; v < events.size(); v++) {
                        RecordedEvent e = events.get(v);
                        assertEquals(v, e.version(), "c" + i + " versions contiguous");
                        Attempt at = attempted.get(Arrays.toString(e.eventId()));
                        assertTrue(at != null, "event never attempted: " + e);
                        assertEquals(at.stream(), e.stream());
                        assertEquals(at.version(), e.version(), "attempted at this version");
                        assertArrayEquals(at.data(), e.data());
                    }
                }
                List<RecordedEvent> allP = readAll(p);
                for (RecordedEvent e : allP) {
                    if (e.stream().startsWith("c")) {
                        assertTrue(seen.add(Arrays.toString(e.eventId())), "event appears twice: " + e);
                    }
                }

                // (3) never two boards acknowledging in one epoch.
                Map<Long, Set<String>> byEpoch = new TreeMap<>();
                for (Ack a : acks) {
                    byEpoch.computeIfAbsent(a.epoch(), k -> new HashSet<>()).add(a.board());
                }
                for (var e : byEpoch.entrySet()) {
                    assertEquals(1, e.getValue().size(), "epoch " + e.getKey() + " acknowledged by " + e.getValue());
                }

                // (4) the boards converge: the same records at the same positions.
                List<RecordedEvent> allS = readAll(s);
                assertEquals(allP.size(), allS.size(), "$all on " + primary.name() + " and " + standby.name());
                for (int i = 0; i < allP.size(); i++) {
                    RecordedEvent a = allP.get(i);
                    RecordedEvent b = allS.get(i);
                    String where = "$all record " + i + ": " + a + " vs " + b;
                    assertEquals(a.position(), b.position(), where);
                    assertEquals(a.stream(), b.stream(), where);
                    assertEquals(a.version(), b.version(), where);
                    assertArrayEquals(a.eventId(), b.eventId(), where);
                    assertArrayEquals(a.data(), b.data(), where);
                }

                // (5) the old primary's divergent tail is set aside, in a file, named in status and journal.
                List<String> diverged = ss.getDivergedFilesList();
                divergedFiles = diverged.size();
                assertTrue(!diverged.isEmpty(), "the old primary " + standby.name() + " reports a divergent tail");
                for (String f : diverged) {
                    Path file = Path.of(f).isAbsolute() ? Path.of(f) : standby.data().resolve(f);
                    assertTrue(Files.exists(file), "divergent tail file exists: " + file);
                    assertTrue(file.startsWith(standby.data()), "in the data folder: " + file);
                }
                assertTrue(boards.journal(standby).stream().anyMatch(l -> l.contains("set aside the divergent tail")),
                        "the journal of " + standby.name() + " says the tail was set aside");
            }
        }

        String summary(long millis) {
            long unknownEvents = attempted.keySet().stream().filter(k -> !ackedKeys.contains(k)).count();
            return "nemesis summary: seed=" + seed + " mode=" + mode + " operations=" + operations.get() + " faults=" + faults
                    + " acknowledged=" + ackedKeys.size() + " unknown=" + unknownEvents + " (ambiguous attempts="
                    + ambiguous.get() + ", found present after an unknown outcome=" + presentUnacked.get() + ", not-primary="
                    + notPrimary.get() + ", acknowledged by a partitioned old primary after the promotion (events the new one held)="
                    + lateAcks.get() + ") lost=" + (lost < 0 ? "unchecked" : lost) + " diverged_files=" + divergedFiles
                    + " time=" + millis + "ms";
        }
    }
}
