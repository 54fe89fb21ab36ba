package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microraft.model.log.LogEntry;
import io.microraft.persistence.RestoredRaftState;
import io.ringstore.replication.PlainSockets;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A voter in its own JVM is SIGKILLed right after it applied a change: its state file holds the
 * term, its vote and the entry (it was forced before the voter acknowledged it), and the voter
 * restarted from it rejoins and applies what the other two committed meanwhile.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VoterKillTest {
    private static final List<String> NAMES = List.of("b1", "b2", "b3");

    @TempDir
    Path root;

    private Process child;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private void startChild(TestVoters v) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                VoterChild.class.getName(), "b3", v.stateDir("b3").toString(), String.valueOf(TestVoters.ELECTION_MILLIS),
                String.valueOf(TestVoters.HEARTBEAT_MILLIS)));
        for (String n : NAMES) {
            cmd.add(n + "=" + v.listen.get(n).getPort());
        }
        child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Process p = child;
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("READ FAILED " + e);
            }
        });
    }

    private String awaitLine(String prefix, long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < end) {
            String l = lines.poll(100, TimeUnit.MILLISECONDS);
            if (l != null) {
                seen.add(l);
                if (l.startsWith(prefix)) {
                    return l;
                }
            }
        }
        throw new AssertionError("child printed no line starting " + prefix + " in " + timeoutMillis + " ms; it printed: "
                + seen.stream().filter(s -> s.startsWith("STARTED") || s.startsWith("APPLIED") || s.contains("Exception")).toList());
    }

    @Test
    void sigkilledVoterRestartsWithItsTermVoteAndLog() throws Exception {
        try (TestVoters v = new TestVoters(root, NAMES, n -> new PlainSockets(), (from, to, real) -> real)) {
            startChild(v);
            v.start("b1");
            v.start("b2");
            awaitLine("STARTED", 60_000);
            VoterGroup leader = v.awaitLeader(15_000, List.of("b1", "b2"));
            GroupState s1 = leader.propose(new GroupChange.NewPrimary(0, 1, "b3", List.of("b3", "b1"))).get(5, TimeUnit.SECONDS);
            awaitLine("APPLIED epoch=1 primary=b3 index=" + s1.index(), 10_000);
            int termBefore = leader.term();

            child.destroyForcibly(); // SIGKILL: no close, no shutdown hook
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed by SIGKILL");
            try (FileRaftStore store = FileRaftStore.open(v.stateDir("b3"))) {
                RestoredRaftState r = store.restored().orElseThrow();
                assertEquals(termBefore, r.getTermPersistentState().getTerm(), "term forced before the kill");
                assertTrue(r.getLogEntries().stream().map(LogEntry::getOperation).anyMatch(
                        o -> o.equals(new GroupChange.NewPrimary(0, 1, "b3", List.of("b3", "b1")))), "the entry it applied");
            }

            GroupState s2 = leader.propose(new GroupChange.NewPrimary(1, 2, "b1", List.of("b1"))).get(5, TimeUnit.SECONDS);
            lines.clear();
            startChild(v);
            String started = awaitLine("STARTED", 60_000);
            assertTrue(Integer.parseInt(started.substring("STARTED term=".length())) >= termBefore, started);
            awaitLine("APPLIED epoch=2 primary=b1 index=" + s2.index(), 15_000);
        } finally {
            if (child != null) {
                child.destroyForcibly();
            }
        }
    }
}
