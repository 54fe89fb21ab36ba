package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.replication.FaultProxy;
import io.ringstore.replication.PlainSockets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every path between the three voters runs through its own {@link FaultProxy} (six, one per
 * direction and pair), so one voter can be cut off completely while its connections stay open
 * (a black hole, as a Wi-Fi link that drops everything). The other two elect and commit; the
 * isolated one commits nothing and answers no beat; after healing it follows the new leader.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VoterPartitionTest {
    private static final List<String> NAMES = List.of("b1", "b2", "b3");

    @TempDir
    Path root;

    @Test
    void isolatedLeaderCannotCommitOrAnswerBeatsWhileTheOtherTwoElectAndCommit() throws Exception {
        Map<String, FaultProxy> proxies = new ConcurrentHashMap<>(); // "from>to"
        long seed = 16;
        System.out.println("VoterPartitionTest seed " + seed);
        try (TestVoters v = new TestVoters(root, NAMES, n -> new PlainSockets(), (from, to, real) -> {
            try {
                FaultProxy p = FaultProxy.start(real, seed + proxies.size());
                proxies.put(from + ">" + to, p);
                return p.address();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })) {
            v.startAll();
            VoterGroup old = v.awaitLeader(10_000);
            GroupState s1 = old.propose(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1", "b2"))).get(5, TimeUnit.SECONDS);
            String isolated = old.board();
            List<String> others = NAMES.stream().filter(n -> !n.equals(isolated)).toList();

            for (Map.Entry<String, FaultProxy> e : proxies.entrySet()) {
                if (e.getKey().contains(isolated)) {
                    e.getValue().partition();
                }
            }
            VoterGroup next = v.awaitLeader(4 * TestVoters.ELECTION_MILLIS + 3_000, others);
            assertNotEquals(isolated, next.board());
            GroupState s2 = next.propose(new GroupChange.NewPrimary(1, 2, next.board(), List.of(next.board())))
                    .get(5, TimeUnit.SECONDS);
            assertEquals(2, s2.epoch());
            VoterGroup otherFollower = v.get(others.stream().filter(n -> !n.equals(next.board())).findFirst().orElseThrow());
            assertEquals(s2, otherFollower.beat(new BoardBeat(otherFollower.board(), "standby", 2, 1, 1, true, "", 1))
                    .get(5, TimeUnit.SECONDS));

            // The isolated voter (it may still believe it leads, until it misses a majority for
            // the heartbeat timeout) commits nothing and answers no beat.
            ExecutionException e = assertThrows(ExecutionException.class, () -> old.propose(
                    new GroupChange.NewPrimary(1, 5, isolated, List.of(isolated))).get(10, TimeUnit.SECONDS));
            assertInstanceOf(GroupUnavailableException.class, e.getCause());
            e = assertThrows(ExecutionException.class, () -> old.beat(
                    new BoardBeat(isolated, "primary", 1, 1, 1, true, "", 1)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(GroupUnavailableException.class, e.getCause());
            assertEquals(s1, old.committed(), "the isolated voter still holds only what it had");
            assertFalse(old.isLeader(), "an isolated leader steps down once it misses a majority");
            TestVoters.await("the isolated voter sees nobody", 5_000,
                    () -> old.votersReachable().values().stream().noneMatch(b -> b));

            for (FaultProxy p : proxies.values()) {
                p.heal();
            }
            TestVoters.await(isolated + " follows the new leader after healing", 15_000,
                    () -> old.committed().equals(s2) && old.leader().equals(next.board()));
            assertEquals(2, next.committed().epoch());
            assertTrue(next.isLeader() || v.awaitLeader(5_000) != null);
        } finally {
            for (FaultProxy p : proxies.values()) {
                p.close();
            }
        }
    }

    /** The same over mutual TLS with keys made by keygen: the group forms, commits and answers beats. */
    @Test
    void formsAndCommitsOverMutualTls() throws Exception {
        Map<String, io.ringstore.replication.ReplicationSockets> sockets = TlsVoters.sockets(root.resolve("keys"), NAMES);
        try (TestVoters v = new TestVoters(root, NAMES, sockets::get, (from, to, real) -> real)) {
            v.startAll();
            VoterGroup leader = v.awaitLeader(10_000);
            VoterGroup follower = v.running().stream().filter(g -> g != leader).findFirst().orElseThrow();
            GroupState s = follower.propose(new GroupChange.NewPrimary(0, 1, "b2", List.of("b2", "b3"))).get(5, TimeUnit.SECONDS);
            TestVoters.await("all applied over TLS", 5_000, () -> v.running().stream().allMatch(g -> g.committed().equals(s)));
            assertEquals(s, follower.beat(new BoardBeat("b3", "standby", 1, 5, 5, true, "", 3)).get(5, TimeUnit.SECONDS));
            assertTrue(leader.beatsSeen().containsKey("b3"));
            InetSocketAddress unused = leader.listenAddress();
            assertTrue(unused.getPort() > 0);
        }
    }
}
