package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.replication.PlainSockets;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three voters in one JVM over real loopback sockets and real files: election, commits on all
 * three, preconditions, beats, the leader killed, a voter restarted from its state folder (with
 * garbage appended to its store), two of three gone.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VoterGroupTest {
    private static final List<String> NAMES = List.of("b1", "b2", "b3");

    @TempDir
    Path root;

    private TestVoters plain() throws IOException {
        return new TestVoters(root, NAMES, n -> new PlainSockets(), (from, to, real) -> real);
    }

    private static BoardBeat beat(String board, long epoch) {
        return new BoardBeat(board, "standby", epoch, 100, 90, true, "", 7);
    }

    @Test
    void electsCommitsOnAllAndAnswersBeats() throws Exception {
        try (TestVoters v = plain()) {
            v.startAll();
            VoterGroup leader = v.awaitLeader(10_000);
            VoterGroup follower = v.running().stream().filter(g -> g != leader).findFirst().orElseThrow();
            List<GroupState> appliedOnFollower = new CopyOnWriteArrayList<>();
            follower.onApplied(appliedOnFollower::add);

            // Proposed on a follower: forwarded to the leader, committed, applied everywhere.
            GroupState s1 = follower.propose(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1", "b2")))
                    .get(5, TimeUnit.SECONDS);
            assertEquals(1, s1.epoch());
            assertEquals("b1", s1.primary());
            assertEquals(List.of("b1", "b2"), s1.inSync());
            assertTrue(s1.index() > 0, "index of the change: " + s1.index());
            TestVoters.await("all three applied epoch 1", 5_000,
                    () -> v.running().stream().allMatch(g -> g.committed().equals(s1)));

            // Stale changes are no-ops: the caller sees the state unchanged, index and all.
            assertEquals(s1, leader.propose(new GroupChange.NewPrimary(0, 2, "b2", List.of("b2"))).get(5, TimeUnit.SECONDS));
            assertEquals(s1, follower.propose(new GroupChange.NewPrimary(1, 1, "b2", List.of("b2"))).get(5, TimeUnit.SECONDS));
            assertEquals(s1, follower.propose(new GroupChange.SetInSync(1, "b2", List.of("b2"))).get(5, TimeUnit.SECONDS));
            assertEquals(s1, follower.propose(new GroupChange.SetInSync(0, "b1", List.of("b1"))).get(5, TimeUnit.SECONDS));
            // A current one applies.
            GroupState s2 = follower.propose(new GroupChange.SetInSync(1, "b1", List.of("b1"), s1.index()))
                    .get(5, TimeUnit.SECONDS);
            assertEquals(new GroupState(1, "b1", List.of("b1"), s2.index()), s2);
            assertTrue(s2.index() > s1.index());
            // One decided on the state before s2 (a proposal whose outcome was unknown, arriving late)
            // is a no-op: it would undo s2.
            assertEquals(s2, follower.propose(new GroupChange.SetInSync(1, "b1", List.of("b1", "b2"), s1.index()))
                    .get(5, TimeUnit.SECONDS));
            GroupState s3 = leader.propose(new GroupChange.NewPrimary(1, 2, "b2", List.of("b2", "b1"))).get(5, TimeUnit.SECONDS);
            assertEquals(2, s3.epoch());
            assertEquals("b2", s3.primary());

            // Beats: answered (from a follower, forwarded) with the current state, recorded on the leader only.
            GroupState answered = follower.beat(beat("b3", 2)).get(5, TimeUnit.SECONDS);
            assertEquals(s3, answered);
            assertEquals(s3, leader.beat(beat("b2", 2)).get(5, TimeUnit.SECONDS));
            Map<String, BeatSeen> seen = leader.beatsSeen();
            assertEquals(beat("b3", 2), seen.get("b3").beat());
            assertEquals(beat("b2", 2), seen.get("b2").beat());
            assertTrue(seen.get("b3").ageMillis() >= 0 && seen.get("b3").ageMillis() < 5_000, seen.toString());
            assertTrue(follower.beatsSeen().isEmpty());

            TestVoters.await("follower told of every change in order", 5_000, () -> appliedOnFollower.contains(s3));
            assertEquals(List.of(s1, s2, s3), appliedOnFollower.subList(appliedOnFollower.indexOf(s1), appliedOnFollower.size()));
            TestVoters.await("all voters reachable from the leader", 5_000,
                    () -> leader.votersReachable().values().stream().allMatch(b -> b));
            assertEquals(2, leader.votersReachable().size());
        }
    }

    /**
     * Closing the leader: another is elected within a few election timeouts with the state intact;
     * the old leader restarts from its state folder (with garbage appended to its store file, as
     * a torn write would leave), restores what it held and catches up.
     * {@code -Dringstore.consensus.kills=N} repeats the kill N times and prints each election time.
     */
    @Test
    void leaderClosedAnotherElectedAndRestartedVoterCatchesUp() throws Exception {
        int kills = Integer.getInteger("ringstore.consensus.kills", 1);
        List<Long> electionMillis = new ArrayList<>();
        try (TestVoters v = plain()) {
            v.startAll();
            VoterGroup first = v.awaitLeader(10_000);
            GroupState s = first.propose(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1", "b2"))).get(5, TimeUnit.SECONDS);
            for (int k = 0; k < kills; k++) {
                VoterGroup leader = v.awaitLeader(15_000);
                String dead = leader.board();
                List<String> others = NAMES.stream().filter(n -> !n.equals(dead)).toList();
                long t0 = System.nanoTime();
                v.close(dead);
                VoterGroup next = v.awaitLeader(4 * TestVoters.ELECTION_MILLIS + 2_000, others);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                electionMillis.add(ms);
                assertNotEquals(dead, next.board());
                assertEquals(s, next.committed(), "the new leader holds the committed state");
                s = next.propose(new GroupChange.SetInSync(1, "b1", k % 2 == 0 ? List.of("b1") : List.of("b1", "b2")))
                        .get(5, TimeUnit.SECONDS);

                // Garbage after the last record, as a write torn by a power cut leaves it.
                Path file = v.stateDir(dead).resolve(FileRaftStore.FILE_NAME);
                long goodSize = Files.size(file);
                try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.APPEND)) {
                    out.write(new byte[] {0, 0, 0, 40, 1, 2, 3, 4, 5, 6, 7});
                }
                try (FileRaftStore store = FileRaftStore.open(v.stateDir(dead))) {
                    assertEquals(goodSize, Files.size(file), "the torn tail was cut on restore");
                    assertTrue(store.restored().isPresent());
                }
                VoterGroup back = v.start(dead);
                GroupState expected = s;
                TestVoters.await(dead + " caught up after restart", 10_000, () -> back.committed().equals(expected));
            }
        }
        System.out.println("consensus: election after closing the leader (ms): " + electionMillis);
    }

    /**
     * The stuck-follower workaround's restart (see VoterGroup#watchForStuckFollower): a voter's
     * Raft node restarted in place from its store keeps the committed state without moving it
     * back while it replays, takes part again (a change proposed on it commits everywhere), and
     * when it was the leader the others elect one and go on.
     */
    @Test
    void aRaftNodeRestartedInPlaceKeepsItsStateAndTakesPartAgain() throws Exception {
        assertFalse(VoterGroup.stuck(TimeUnit.MILLISECONDS.toNanos(9_000), 2_000), "an election may still be under way");
        assertTrue(VoterGroup.stuck(TimeUnit.MILLISECONDS.toNanos(10_001), 2_000));
        try (TestVoters v = plain()) {
            v.startAll();
            VoterGroup leader = v.awaitLeader(10_000);
            GroupState s1 = leader.propose(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1"))).get(5, TimeUnit.SECONDS);
            VoterGroup follower = v.running().stream().filter(g -> g != leader).findFirst().orElseThrow();
            TestVoters.await("the follower applied epoch 1", 5_000, () -> follower.committed().equals(s1));
            List<GroupState> seen = new CopyOnWriteArrayList<>();
            follower.onApplied(seen::add);

            follower.restartRaft("test");
            assertEquals(1, follower.raftRestarts());
            assertEquals(s1, follower.committed(), "the replay does not move the committed state back");
            GroupState s2 = follower.propose(new GroupChange.SetInSync(1, "b1", List.of("b1", "b2"), s1.index()))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(List.of("b1", "b2"), s2.inSync());
            TestVoters.await("all three applied the change made after the restart", 10_000,
                    () -> v.running().stream().allMatch(g -> g.committed().equals(s2)));
            assertTrue(seen.stream().allMatch(g -> g.index() >= s1.index()), "listeners never saw an older state: " + seen);

            // The leader restarted in place: the group has a leader again and commits.
            leader.restartRaft("test");
            VoterGroup next = v.awaitLeader(20_000);
            GroupState s3 = next.propose(new GroupChange.SetInSync(1, "b1", List.of("b1"), s2.index())).get(10, TimeUnit.SECONDS);
            assertEquals(List.of("b1"), s3.inSync());
            TestVoters.await("all three applied it", 10_000, () -> v.running().stream().allMatch(g -> g.committed().equals(s3)));
        }
    }

    @Test
    void withTwoOfThreeGoneRequestsFailWithinTheirTimeout() throws Exception {
        try (TestVoters v = plain()) {
            v.startAll();
            VoterGroup leader = v.awaitLeader(10_000);
            leader.propose(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1"))).get(5, TimeUnit.SECONDS);
            // Keep the leader alone: it must not commit or answer beats without a majority.
            for (String n : NAMES) {
                if (!n.equals(leader.board())) {
                    v.close(n);
                }
            }
            // Both at once: each must fail on its own deadline.
            long t0 = System.nanoTime();
            var propose = leader.propose(new GroupChange.SetInSync(1, "b1", List.of("b1", "b3")))
                    .handle((r, x) -> new Object[] {x, (System.nanoTime() - t0) / 1_000_000});
            var beat = leader.beat(beat("b1", 1)).handle((r, x) -> new Object[] {x, (System.nanoTime() - t0) / 1_000_000});
            for (Object[] outcome : List.of(propose.get(10, TimeUnit.SECONDS), beat.get(10, TimeUnit.SECONDS))) {
                assertInstanceOf(GroupUnavailableException.class, outcome[0]);
                long ms = (Long) outcome[1];
                // the deadline plus scheduling slack on a loaded machine
                assertTrue(ms <= TestVoters.REQUEST_MILLIS + 1_000, "failed after " + ms + " ms");
            }
            assertEquals(1, leader.committed().inSync().size(), "nothing committed alone");
        }
    }

    @Test
    void garbageOnTheGroupPortDropsThatConnectionOnly() throws Exception {
        try (TestVoters v = plain()) {
            v.startAll();
            VoterGroup leader = v.awaitLeader(10_000);
            for (byte[] junk : List.of("GET / HTTP/1.1\r\n\r\n".getBytes(), new byte[] {0, 0, 0, 5, 1, 0, 0, 0, 0},
                    new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff})) {
                for (VoterGroup g : v.running()) {
                    try (Socket s = new Socket(g.listenAddress().getAddress(), g.listenAddress().getPort())) {
                        s.getOutputStream().write(junk);
                        s.setSoTimeout(5_000);
                        assertEquals(-1, s.getInputStream().read(), "the voter closes a connection that sends junk");
                    }
                }
            }
            GroupState s = leader.propose(new GroupChange.NewPrimary(0, 3, "b3", List.of("b3"))).get(5, TimeUnit.SECONDS);
            assertEquals(3, s.epoch());
            assertSame(leader, v.awaitLeader(1_000));
        }
    }

    @Test
    void refusesAStateFolderMadeForAnotherBoardOrOtherVoters() throws Exception {
        try (TestVoters v = plain()) {
            v.start("b1");
            v.close("b1");
            GroupOptions b1 = v.options("b1");
            GroupOptions asB2 = new GroupOptions("b2", b1.voters(), b1.listen(), b1.stateDir(), b1.sockets(),
                    b1.electionTimeoutMillis(), b1.heartbeatMillis(), b1.requestTimeoutMillis());
            IOException e = assertThrows(IOException.class, () -> VoterGroup.start(asB2));
            assertTrue(e.getMessage().contains("belongs to voter b1"), e.getMessage());
            Map<String, java.net.InetSocketAddress> fewer = new java.util.LinkedHashMap<>(b1.voters());
            fewer.remove("b3");
            GroupOptions otherVoters = new GroupOptions("b1", fewer, b1.listen(), b1.stateDir(), b1.sockets(),
                    b1.electionTimeoutMillis(), b1.heartbeatMillis(), b1.requestTimeoutMillis());
            e = assertThrows(IOException.class, () -> VoterGroup.start(otherVoters));
            assertTrue(e.getMessage().contains("changing the voters is not supported"), e.getMessage());
            // A port already taken: a clear error, and the folder is usable right after.
            try (java.net.ServerSocket taken = new java.net.ServerSocket(b1.listen().getPort(), 1, b1.listen().getAddress())) {
                assertTrue(taken.isBound());
                assertThrows(IOException.class, () -> VoterGroup.start(b1));
            }
            v.start("b1");
            assertEquals(GroupState.INITIAL, v.get("b1").committed());
        }
    }
}
