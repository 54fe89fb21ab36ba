package io.ringstore.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.config.Settings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group settings, checked once at start: every bad combination is refused with a message
 * naming the key and saying what to do; good ones come out with this board's place in the group
 * (its name from its key, the other voters whose certificates its group sockets pin).
 */
class GroupConfigTest {
    private static Path keys;

    /** Keys for two data boards and a witness, as keygen makes them; each trusts the other two. */
    @BeforeAll
    static void makeKeys() throws Exception {
        keys = GroupKeys.get().toAbsolutePath();
    }

    private static DaemonSettings parse(String... flags) throws Settings.BadSetting {
        Settings s = Settings.load(null, false, List.of(flags), DaemonSettings.KEYS, DaemonSettings.FLAGS);
        return DaemonSettings.from(s, null);
    }

    private static String refused(String... flags) {
        return assertThrows(Settings.BadSetting.class, () -> parse(flags)).getMessage();
    }

    private static final String VOTERS = "a=127.0.0.1:7412, b=127.0.0.2:7412, w=127.0.0.3:7412";

    /** A witness's flags: its key, the others' certificates, the three voters. */
    private static String[] witness(String... extra) {
        List<String> f = new ArrayList<>(List.of("--role", "witness", "--group-voters", VOTERS, "--group-listen", ":7412",
                "--replication-key-store", keys.resolve("w/w.p12").toString(),
                "--replication-peer-certs", keys.resolve("w/peers").toString()));
        f.addAll(List.of(extra));
        return f.toArray(String[]::new);
    }

    /** Data board a's flags: replication to b, the group with the witness w. */
    private static String[] dataBoard(String... extra) {
        List<String> f = new ArrayList<>(List.of("--group-voters", VOTERS, "--group-listen", "127.0.0.1:7412",
                "--replication-peers", "b=127.0.0.2:7411", "--replication-listen", ":7411",
                "--replication-key-store", keys.resolve("a/a.p12").toString(),
                "--replication-peer-certs", keys.resolve("a/peers").toString(), "--ack-mode", "replica-memory"));
        f.addAll(List.of(extra));
        return f.toArray(String[]::new);
    }

    @Test
    void noGroupUnlessVotersAreSet() throws Exception {
        DaemonSettings d = parse();
        assertNull(d.group());
        assertFalse(d.witness());
        assertTrue(refused("--failover-after-ms", "9000").contains("failover_after_ms = '9000' is set but group_voters is not"));
        assertTrue(refused("--group-listen", ":7412").contains("group_listen"));
        assertTrue(refused("--role", "witness").contains("needs group_voters"));
    }

    @Test
    void badVotersAreRefusedSayingWhy() {
        for (String[] bad : List.of(
                new String[] {"a=h:1, b, c=h:3", "expected name=host:port"},
                new String[] {"A=h:1, b=h:2, c=h:3", "board name"},
                new String[] {"a=h:1, a=g:2, c=h:3", "named twice"},
                new String[] {"a=h:1, b=h:1, c=h:3", "the same address h:1"},
                new String[] {"a=:7412, b=h:2, c=h:3", "not every interface"},
                new String[] {"a=h:x, b=h:2, c=h:3", "not a port number"})) {
            String m = refused("--group-voters", bad[0], "--group-listen", ":7412");
            assertTrue(m.contains("group_voters") && m.contains(bad[1]), bad[0] + ": " + m);
        }
    }

    @Test
    void twoOrFourVotersAreNotAGroup() {
        String two = refused("--group-voters", "a=h:1, b=h:2", "--group-listen", ":1");
        assertTrue(two.contains("names 2 voters[a, b]") && two.contains("needs 3") && two.contains("add a witness"), two);
        String four = refused("--group-voters", "a=h:1, b=h:2, c=h:3, d=h:4", "--group-listen", ":1");
        assertTrue(four.contains("names 4 voters") && four.contains("no more failures than three"), four);
    }

    @Test
    void missingListenIsRefused() {
        String m = refused("--group-voters", VOTERS);
        assertTrue(m.startsWith("group_listen must be set with group_voters"), m);
    }

    @Test
    void timingsMustFit() {
        // A failover quicker than the primary's beats (lease/3) would promote on every late beat.
        String beat = refused(witness("--primary-lease-ms", "30000", "--failover-after-ms", "9000"));
        assertTrue(beat.startsWith("bad failover timing: failover_after_ms (9000) must be longer than the beat interval"), beat);
        assertTrue(refused(witness("--clock-drift-bound", "fast")).contains("is not a number"));
        assertTrue(refused(witness("--clock-drift-bound", "0.9")).contains("between 0.01 and 0.5"));
        String order = refused(witness("--group-election-timeout-ms", "5000", "--failover-after-ms", "4000"));
        assertTrue(order.contains("must be longer than group_election_timeout_ms (5000)"), order);
    }

    @Test
    void aWitnessIsAVoterWithAKeyAndNoLog() throws Exception {
        DaemonSettings d = parse(witness("--clock-drift-bound", "10%"));
        assertTrue(d.witness());
        GroupConfig g = d.group();
        assertEquals("w", g.board());
        assertEquals(List.of("a", "b"), List.copyOf(g.otherVoters().keySet()));
        assertEquals(InetSocketAddress.createUnresolved("0.0.0.0", 7412), g.listen());
        assertEquals(6000, g.failoverAfterMillis());
        assertEquals(3000, g.primaryLeaseMillis());
        assertEquals(0.10, g.clockDriftBound(), 1e-9);
        assertEquals(3000, g.inSyncDropAfterMillis());
        assertEquals(10, g.failoverOptions().driftPercent());
        // W, the wait of a newly chosen primary: lease * 1.1^2 + 250 ms.
        assertEquals(3880, g.failoverOptions().takeoverWaitNanos() / 1_000_000);
        assertEquals(2, g.majority());
        assertFalse(d.replication().enabled(), "a witness ships no log");
        d.groupSockets(); // the other voters' pinned certificates load

        String peers = refused(witness("--replication-peers", "a=127.0.0.1:7411"));
        assertTrue(peers.contains("replication_peers") && peers.contains("ships and follows no log"), peers);
        String noKey = refused("--role", "witness", "--group-voters", VOTERS, "--group-listen", ":7412");
        assertTrue(noKey.startsWith("replication_key_store must be set on a witness"), noKey);
        String notAVoter = refused(witness("--group-voters", "a=127.0.0.1:7412, b=127.0.0.2:7412, c=127.0.0.3:7412"));
        assertTrue(notAVoter.contains("does not name this board (w"), notAVoter);
        String port = refused(witness("--group-listen", ":7500"));
        assertTrue(port.contains("listens on port 7500") && port.contains("w is at 127.0.0.3:7412"), port);
    }

    @Test
    void aDataBoardInAGroupReplicatesToVoters(@TempDir Path tmp) throws Exception {
        DaemonSettings d = parse(dataBoard());
        assertFalse(d.witness());
        assertEquals("a", d.group().board());
        assertEquals(List.of("b", "w"), List.copyOf(d.group().otherVoters().keySet()));

        String noReplication = refused("--group-voters", VOTERS, "--group-listen", ":7412");
        assertTrue(noReplication.contains("replication is not"), noReplication);
        String samePort = refused(dataBoard("--group-listen", ":7411", "--group-voters",
                "a=127.0.0.1:7411, b=127.0.0.2:7412, w=127.0.0.3:7412"));
        assertTrue(samePort.contains("uses the replication port 7411"), samePort);
        String drop = refused(dataBoard("--insync-drop-after-ms", "5000"));
        assertTrue(drop.contains("must be below replica_ack_timeout_ms (5000)"), drop);
        // local: the group still fails over, and no append waits for the in-sync set.
        assertEquals("a", parse(dataBoard("--ack-mode", "local", "--insync-drop-after-ms", "9000")).group().board());
        // A peer certificate missing: refused at start, naming the file.
        Path certs = Files.createDirectories(tmp.resolve("a-no-w"));
        Files.copy(keys.resolve("a/peers/b.crt"), certs.resolve("b.crt"));
        String missing = refused(dataBoard("--replication-peer-certs", certs.toString()));
        assertTrue(missing.startsWith("group keys:") && missing.contains("w.crt"), missing);
    }
}
