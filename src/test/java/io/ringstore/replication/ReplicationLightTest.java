package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.status.Led;
import io.ringstore.status.LedLogic;
import io.ringstore.status.LedPattern;
import io.ringstore.status.StatusLine;
import io.ringstore.status.StoreSignals;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.testsupport.FreePorts;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replication light and the status line's replication part, from a real primary and standby
 * over loopback: steady on a primary whose standby follows, slow blink on the following standby,
 * fast blink on the primary once its standby is gone and on a standby whose primary is gone.
 */
@Timeout(60)
class ReplicationLightTest {
    @TempDir
    Path dir;

    private final List<RingStore> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (RingStore s : open) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                // best effort
            }
        }
    }

    private RingStore open(String board, ReplicationOptions r) throws IOException {
        RingStore s = RingStore.open(StoreConfig.defaults(dir.resolve(board)).withSegmentSize(64 << 10)
                .withPsiFile(dir.resolve("no-psi")), r);
        open.add(s);
        return s;
    }

    private static LedPattern light(RingStore s) {
        return LedLogic.patterns(StoreSignals.from(s.status(), false, System.nanoTime())).get(Led.REPLICA);
    }

    private static void await(String what, Supplier<Boolean> c) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!c.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void theReplicationLightShowsEachBoardsState() throws Exception {
        int p1 = FreePorts.next();
        int p2 = FreePorts.next();
        ReplicationOptions.Peer b1 = new ReplicationOptions.Peer("b1", new InetSocketAddress("127.0.0.1", p1));
        ReplicationOptions.Peer b2 = new ReplicationOptions.Peer("b2", new InetSocketAddress("127.0.0.1", p2));
        RingStore primary = open("b1", new ReplicationOptions(Role.PRIMARY, "b1", b1.address(), null, List.of(b2),
                60_000, AckMode.LOCAL, new PlainSockets()));
        assertEquals(LedPattern.FAST_BLINK, light(primary), "a primary whose standby has not connected");
        RingStore standby = open("b2", new ReplicationOptions(Role.STANDBY, "b2", b2.address(), b1, List.of(b1),
                60_000, AckMode.LOCAL, new PlainSockets()));
        for (int i = 0; i < 20; i++) {
            primary.append("door", ExpectedVersion.ANY,
                    List.of(EventData.of("opened", ("#" + i).getBytes(StandardCharsets.UTF_8)))).join();
        }
        await("the primary's light steady", () -> light(primary) == LedPattern.ON);
        await("the standby's light blinking slowly", () -> light(standby) == LedPattern.SLOW_BLINK);
        String line = new StatusLine().format(primary.status(), 0, Map.of(), System.nanoTime());
        assertTrue(line.contains("role=primary epoch=0 standbys=1/1"), line);
        String standbyLine = new StatusLine().format(standby.status(), 0, Map.of(), System.nanoTime());
        assertTrue(standbyLine.contains("role=standby epoch=0 primary=connected"), standbyLine);

        open.remove(standby);
        standby.close();
        await("the primary's light blinking fast without its standby", () -> light(primary) == LedPattern.FAST_BLINK);
        assertTrue(new StatusLine().format(primary.status(), 0, Map.of(), System.nanoTime()).contains("standbys=0/1"));
    }
}
