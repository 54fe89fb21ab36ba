package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.replication.AckMode;
import io.ringstore.replication.TestReplicaProgress;
import io.ringstore.writer.AckOptions;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica-mode store behind the real socket server: a live $all subscriber receives nothing
 * the standby does not hold, pipelined appends on one connection are answered in order once it
 * does, and every answer names replica-memory.
 */
class ReplicaAckServerTest {
    @TempDir
    Path dir;

    @Test
    void subscribersSeeNothingTheStandbyDoesNotHoldAndAnswersNameTheMode() throws Exception {
        try (TestServer t = TestServer.start(dir, c -> c,
                c -> c.withAck(AckOptions.of(AckMode.REPLICA_MEMORY).withTimeoutMillis(30_000)))) {
            TestReplicaProgress standby = new TestReplicaProgress();
            t.store.setReplicaProgress(standby);
            RingStoreClient subscriber = t.client();
            LinkedBlockingQueue<RecordedEvent> seen = new LinkedBlockingQueue<>();
            LinkedBlockingQueue<Long> confirmed = new LinkedBlockingQueue<>();
            subscriber.subscribe("$all", SubscribeFrom.START, new SubscriptionListener() {
                @Override
                public void onEvent(RecordedEvent event) {
                    seen.add(event);
                }

                @Override
                public void onConfirmed(long committedPosition) {
                    confirmed.add(committedPosition);
                }
            });
            assertNotNull(confirmed.poll(10, TimeUnit.SECONDS), "subscription not confirmed");

            RingStoreClient writer = t.client();
            long before = t.store.log().publishedPosition();
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                acks.add(writer.append("sensor", ExpectedVersion.ANY, List.of(EventData.of("reading", new byte[] {(byte) i}))));
            }
            long end = before;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (t.store.writerStats().events() < 3 && System.nanoTime() < deadline) {
                end = t.store.log().awaitPublishedBeyond(end, 100);
            }
            end = t.store.log().publishedPosition();
            assertEquals(3, t.store.writerStats().events(), "all three written while none is acknowledged");
            assertNull(seen.poll(200, TimeUnit.MILLISECONDS), "a subscriber got an event the standby does not hold");
            assertFalse(acks.stream().anyMatch(CompletableFuture::isDone));

            standby.setHeld(AckMode.REPLICA_MEMORY, end);
            for (int i = 0; i < 3; i++) {
                AppendResult r = acks.get(i).get(10, TimeUnit.SECONDS);
                assertEquals(i, r.lastVersion(), "answers in the order sent");
                assertEquals(AckMode.REPLICA_MEMORY, r.ackMode());
                assertFalse(r.solo());
                RecordedEvent e = seen.poll(10, TimeUnit.SECONDS);
                assertNotNull(e, "event " + i + " not delivered once held");
                assertEquals(i, e.version());
                assertTrue(e.position() < end);
            }
        }
    }
}
