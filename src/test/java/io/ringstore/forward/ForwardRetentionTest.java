package io.ringstore.forward;

import static io.ringstore.forward.ForwardDaemon.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.api.MessageInfo;
import io.ringstore.log.MainLog;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllSlice;
import io.ringstore.split.SplitterOptions;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention keeps the log segments the forwarder has not forwarded (its hold on the main log,
 * next to replication's), and lets them go once JetStream has them; only a reclaim the disk
 * budget forces takes them, and the forwarder then says what it skipped and goes on. A store in
 * this JVM (retention set to keep nothing once split) and a real nats-server.
 */
@Timeout(60)
class ForwardRetentionTest {
    @TempDir
    Path dir;

    private static void append(RingStore store, int n) throws Exception {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            acks.add(store.append("s-" + (i % 4), ExpectedVersion.ANY, List.of(EventData.of("r", new byte[1000]))));
        }
        for (CompletableFuture<?> a : acks) {
            a.get(10, TimeUnit.SECONDS);
        }
    }

    /** Waits until the splitter has moved everything committed into stream files (retention's condition). */
    private static void awaitSplit(RingStore store) throws InterruptedException {
        await("everything split", 20_000, () -> store.splitter().position() >= store.committedPosition());
    }

    private static List<LogRecord> all(RingStore store) {
        List<LogRecord> out = new ArrayList<>();
        long at = 0;
        while (true) {
            AllSlice s = store.readAll(at, 1000);
            out.addAll(s.records());
            at = s.next();
            if (s.end()) {
                return out;
            }
        }
    }

    @Test
    void retentionKeepsWhatTheForwarderNeedsUntilTheDiskBudgetForcesIt() throws Exception {
        StoreConfig config = StoreConfig.defaults(dir.resolve("data")).withSegmentSize(64 << 10)
                .withSplitter(SplitterOptions.defaults().withWindow(4096, 1).withRetention(0, 0));
        try (NatsServer nats = new NatsServer(dir.resolve("nats")); RingStore store = RingStore.open(config)) {
            ForwardOptions options = new ForwardOptions(List.of(nats.url()), NatsServer.USER, NatsServer.PASSWORD, null,
                    "RS", new Subjects(ForwardOptions.DEFAULT_SUBJECT, "b1"), 256, 1024, 4 << 20, 10_000, 1_500);
            Forwarder f = Forwarder.start(options, store, "b1");
            try {
                MainLog log = store.log();
                long first = log.oldestPosition();
                append(store, 600); // about 10 segments; NATS is not running
                awaitSplit(store);
                append(store, 70); // a roll and another splitter pass: retention would reclaim now
                awaitSplit(store);
                assertEquals(first, log.oldestPosition(), "nothing reclaimed while the forwarder needs it");
                assertTrue(log.segmentFiles().size() >= 10, "segments kept: " + log.segmentFiles().size());

                nats.start();
                nats.addStream("RS", Duration.ofMinutes(2));
                await("forwarded", 20_000, () -> f.status().forwarded() == 670 && f.status().lagEvents() == 0);
                append(store, 70); // the next pass reclaims what JetStream has acknowledged
                await("reclaimed once forwarded", 20_000, () -> log.oldestPosition() > first);
                long forwardedAt = f.status().position();
                assertTrue(log.oldestPosition() <= forwardedAt, "only below the forwarder's checkpoint");

                // NATS goes away; the store fills; the budget forces a reclaim.
                nats.kill();
                append(store, 400);
                awaitSplit(store);
                long held = f.status().position();
                assertTrue(log.oldestPosition() <= held, "retention still holds: oldest=" + log.oldestPosition()
                        + " held=" + held);
                // Replication's hold binds the budget's reclaims too; the forwarder's yields.
                long standby = held + 3 * 65536;
                log.setReclaimFloor(() -> standby);
                log.reclaim(store.splitter().position(), 0, 0, System.currentTimeMillis(), true);
                assertTrue(log.oldestPosition() > held && log.oldestPosition() <= standby,
                        "the budget took the forwarder's segments up to the standby's: oldest=" + log.oldestPosition());
                long oldest = log.oldestPosition();
                log.setReclaimFloor(() -> Long.MAX_VALUE);

                nats.start();
                await("forwarding again", 20_000, () -> f.status().lagEvents() == 0 && f.status().skippedBytes() > 0
                        && f.status().state() == ForwardState.FORWARDING);
                ForwardStatus s = f.status();
                assertEquals(oldest - held, s.skippedBytes(), "skipped bytes: " + s);
                assertEquals(held + ".." + oldest, s.skipped());
                assertTrue(s.describe().contains("FORWARD_SKIPPED="), s.describe());

                List<MessageInfo> messages = nats.messages("RS");
                Set<String> ids = new HashSet<>();
                long inSkippedRange = 0;
                for (MessageInfo m : messages) {
                    assertTrue(ids.add(m.getHeaders().getFirst("Nats-Msg-Id")), "no duplicates");
                    long p = Long.parseLong(m.getHeaders().getFirst("Ringstore-Position"));
                    if (p >= held && p < oldest) {
                        inSkippedRange++;
                    }
                }
                // Publishes in flight when NATS was killed may have been stored without their
                // acknowledgement reaching us; their segments then went: JetStream has them, the
                // forwarder counts them as skipped, not forwarded.
                assertEquals(s.forwarded() + inSkippedRange, messages.size(), "JetStream holds what was forwarded");
                for (LogRecord r : all(store)) {
                    assertTrue(ids.contains(Subjects.uuid(r.getEventId().toByteArray())),
                            "every event still stored reached JetStream: position " + r.getPosition());
                }
                assertTrue(s.forwarded() < 1140, "the skipped events were not forwarded: " + s.forwarded());
            } finally {
                f.stop();
            }
            // The checkpoint file holds where it stopped and the totals.
            ForwardCheckpoint.State saved = ForwardCheckpoint.read(config.io(), config.dataDir());
            assertEquals(f.status().position(), saved.position());
            assertEquals(f.status().forwarded(), saved.forwarded());
            assertEquals(f.status().skippedBytes(), saved.skippedBytes());
        }
    }
}
