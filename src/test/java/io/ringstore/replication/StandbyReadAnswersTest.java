package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.SubscribeRequest;
import io.ringstore.server.RawConnection;
import io.ringstore.server.ServerConfig;
import io.ringstore.server.SocketServer;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads on a standby, through its real Unix socket: a stream read, a $all page and every update
 * of a subscription say how far behind the primary the standby is; on the primary they do not.
 */
@Timeout(60)
class StandbyReadAnswersTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
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

    private Path serve(RingStore store, String name) throws IOException {
        Path socket = dir.resolve(name + ".sock");
        open.add(SocketServer.start(store, ServerConfig.defaults(socket)));
        return socket;
    }

    @Test
    void everyReadAnswerOnAStandbySaysHowFarBehindItIs() throws Exception {
        ReplicationOptions.Peer b1 = new ReplicationOptions.Peer("b1", new InetSocketAddress("127.0.0.1", FreePorts.next()));
        ReplicationOptions.Peer b2 = new ReplicationOptions.Peer("b2", new InetSocketAddress("127.0.0.1", FreePorts.next()));
        RingStore primary = open("b1", new ReplicationOptions(Role.PRIMARY, "b1", b1.address(), null, List.of(b2),
                60_000, AckMode.LOCAL, new PlainSockets()));
        RingStore standby = open("b2", new ReplicationOptions(Role.STANDBY, "b2", b2.address(), b1, List.of(b1),
                60_000, AckMode.LOCAL, new PlainSockets()));
        for (int i = 0; i < 10; i++) {
            primary.append("door", ExpectedVersion.ANY,
                    List.of(EventData.of("opened", ("#" + i).getBytes(StandardCharsets.UTF_8)))).join();
        }
        long end = primary.committedPosition();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (standby.committedPosition() < end) {
            assertTrue(System.nanoTime() < deadline, "the standby did not catch up");
            Thread.sleep(20);
        }
        Path onStandby = serve(standby, "b2");
        Path onPrimary = serve(primary, "b1");
        try (RawConnection c = new RawConnection(onStandby)) {
            c.send(Request.newBuilder().setId(1).setReadStream(ReadStreamRequest.newBuilder().setStream("door")).build(),
                    Request.newBuilder().setId(2).setReadAll(ReadAllRequest.newBuilder()).build(),
                    Request.newBuilder().setId(3).setSubscribe(SubscribeRequest.newBuilder().setStream("door")).build());
            // Reads are answered on their own threads: answers come in any order, matched by id.
            Response read = null;
            Response all = null;
            int updates = 0;
            while (read == null || all == null || updates < 12) { // subscription: confirmed, 10 events, caught up
                Response r = c.next();
                switch ((int) r.getId()) {
                    case 1 -> read = r;
                    case 2 -> all = r;
                    case 3 -> {
                        assertTrue(r.getSubscription().hasStandbyBehindBytes(), "subscription update " + updates + ": " + r);
                        updates++;
                    }
                    default -> throw new AssertionError("unexpected answer: " + r);
                }
            }
            assertEquals(10, read.getReadStream().getEventsCount(), read.toString());
            assertTrue(read.getReadStream().hasStandbyBehindBytes(), "a stream read on a standby: " + read);
            assertEquals(0, read.getReadStream().getStandbyBehindBytes(), "caught up: nothing behind");
            assertTrue(all.getReadAll().hasStandbyBehindBytes(), "a $all page on a standby: " + all);
        }
        try (RawConnection c = new RawConnection(onPrimary)) {
            c.send(Request.newBuilder().setId(1).setReadStream(ReadStreamRequest.newBuilder().setStream("door")).build());
            assertFalse(c.next().getReadStream().hasStandbyBehindBytes(), "a primary's answers say nothing of it");
        }
    }
}
