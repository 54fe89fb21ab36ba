package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.replication.FaultProxy;
import io.ringstore.replication.ReplicationSockets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every path between the three voters runs through its own {@link FaultProxy} (six, one per
 * direction and pair), so one voter can be cut off completely while its connections stay open
 * (a black hole, as a Wi-Fi link that drops everything). The other two elect and commit; the
 * isolated one commits nothing and answers no beat; after healing it follows the new leader. The
 * voters talk mutual TLS with keys made by keygen, so this is also the TLS test.
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
        // Over mutual TLS with keys made by keygen, as the daemon runs it; the proxies carry the TLS bytes.
        long t0 = System.nanoTime();
        Map<String, ReplicationSockets> sockets = TlsVoters.sockets(root.resolve("keys"), NAMES);
        System.out.println("VoterPartitionTest: keys made in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        try (TestVoters v = new TestVoters(root, NAMES, sockets::get, (from, to, real) -> {
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

            // A follower cut off for twice the election timeout, then back: thanks to pre-vote it
            // never raised the term, so it does not depose the leader the other voter still hears.
            String flapper = NAMES.stream().filter(n -> !n.equals(old.board())).findFirst().orElseThrow();
            int term = old.term();
            proxies.forEach((path, p) -> {
                if (path.contains(flapper)) {
                    p.partition();
                }
            });
            Thread.sleep(2 * TestVoters.ELECTION_MILLIS + TestVoters.HEARTBEAT_MILLIS); // the fault lasts this long
            assertEquals(term, v.get(flapper).term(), "pre-vote: the cut-off follower did not raise its term");
            proxies.values().forEach(FaultProxy::heal);
            TestVoters.await("the follower back with the same leader", 10_000,
                    () -> v.get(flapper).leader().equals(old.board()) && v.get(flapper).committed().equals(s1));
            assertTrue(old.isLeader());
            assertEquals(term, old.term(), "the leader kept its term: nobody deposed it");
            String isolated = old.board();
            List<String> others = NAMES.stream().filter(n -> !n.equals(isolated)).toList();

            for (Map.Entry<String, FaultProxy> e : proxies.entrySet()) {
                if (e.getKey().contains(isolated)) {
                    e.getValue().partition();
                }
            }
            long cutAt = System.nanoTime();
            VoterGroup next = v.awaitLeader(4 * TestVoters.ELECTION_MILLIS + 3_000, others);
            System.out.println("VoterPartitionTest: the other two elected " + next.board() + " in "
                    + (System.nanoTime() - cutAt) / 1_000_000 + " ms after the partition");
            assertNotEquals(isolated, next.board());
            GroupState s2 = next.propose(new GroupChange.NewPrimary(1, 2, next.board(), List.of(next.board())))
                    .get(5, TimeUnit.SECONDS);
            assertEquals(2, s2.epoch());
            VoterGroup otherFollower = v.get(others.stream().filter(n -> !n.equals(next.board())).findFirst().orElseThrow());
            assertEquals(s2, otherFollower.beat(new BoardBeat(otherFollower.board(), "standby", 2, 1, 1, true, "", 1))
                    .get(5, TimeUnit.SECONDS));

            // The isolated voter (it may still believe it leads, until it misses a majority for
            // the heartbeat timeout) commits nothing and answers no beat.
            // Both at once, each bounded by the request timeout.
            var propose = old.propose(new GroupChange.NewPrimary(1, 5, isolated, List.of(isolated))).handle((r, x) -> x);
            var beat = old.beat(new BoardBeat(isolated, "primary", 1, 1, 1, true, "", 1)).handle((r, x) -> x);
            assertInstanceOf(GroupUnavailableException.class, propose.get(10, TimeUnit.SECONDS));
            assertInstanceOf(GroupUnavailableException.class, beat.get(10, TimeUnit.SECONDS));
            assertEquals(s1, old.committed(), "the isolated voter still holds only what it had");
            assertFalse(old.isLeader(), "an isolated leader steps down once it misses a majority");
            TestVoters.await("the isolated voter sees nobody", 5_000,
                    () -> old.votersReachable().values().stream().noneMatch(b -> b));

            System.out.println("VoterPartitionTest: isolated checks done at " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            for (FaultProxy p : proxies.values()) {
                p.heal();
            }
            TestVoters.await(isolated + " follows the new leader after healing", 15_000,
                    () -> old.committed().equals(s2) && old.leader().equals(next.board()));
            System.out.println("VoterPartitionTest: healed and caught up at " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            assertEquals(2, next.committed().epoch());
            assertTrue(next.isLeader() || v.awaitLeader(5_000) != null);
        } finally {
            for (FaultProxy p : proxies.values()) {
                p.close();
            }
        }
    }
}
