package io.ringstore.forward;

import static io.ringstore.forward.ForwardDaemon.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.api.MessageInfo;
import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real daemon (child JVM) forwarding to a real nats-server with JetStream, both killed
 * (SIGKILL) and stopped (SIGTERM) in the middle of a flow of appends; and the failures a user
 * meets first: NATS down at start, a wrong password, a JetStream stream that does not exist.
 * Each ends by comparing what the store holds ($all, read back) with what the JetStream stream
 * holds: the same events, each once (counted per subject and by Nats-Msg-Id), in each stream's order.
 */
@Timeout(120)
class ForwardNatsTest {
    @TempDir
    Path dir;

    /** Streams written by the producer; one name needs escaping in a subject. */
    private static final List<String> STREAMS = List.of("sensor-1", "sensor-2", "kitchen.temp");

    /** Appends round-robin to {@link #STREAMS} until stopped, riding out daemon restarts. */
    private static final class Producer implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong acked = new AtomicLong();
        final Thread thread;

        Producer(ForwardDaemon d) {
            thread = Thread.ofPlatform().name("producer").start(() -> {
                int i = 0;
                while (!stop.get()) {
                    try (RingStoreClient c = RingStoreClient.connect(d.socket)) {
                        while (!stop.get()) {
                            String stream = STREAMS.get(i % STREAMS.size());
                            c.append(stream, ExpectedVersion.ANY, List.of(EventData.of("reading",
                                    ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))).get(10, TimeUnit.SECONDS);
                            acked.incrementAndGet();
                            i++;
                            Thread.sleep(1);
                        }
                    } catch (Exception e) {
                        // the daemon is down for the moment: try again shortly
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException ie) {
                            return;
                        }
                    }
                }
            });
        }

        void awaitMore(long n) throws InterruptedException {
            long target = acked.get() + n;
            await(n + " more appends", 30_000, () -> acked.get() >= target);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(15_000);
        }
    }

    private static long forwarded(ForwardDaemon d) {
        StatusResponse s = d.status();
        return s == null ? -1 : s.getForwardEvents();
    }

    /** Waits until JetStream acknowledged more than it had (the forwarder works again). */
    private static void awaitForwardedBeyond(ForwardDaemon d, long n) throws InterruptedException {
        await("forwarded beyond " + n, 60_000, () -> forwarded(d) > n);
    }

    /** Waits until the forwarder has everything the store committed. */
    private static StatusResponse awaitCaughtUp(ForwardDaemon d) throws InterruptedException {
        StatusResponse[] last = new StatusResponse[1];
        await("forwarder caught up", 60_000, () -> {
            StatusResponse s = d.status();
            last[0] = s;
            return s != null && s.getForwardState().equals("forwarding") && s.getForwardLagEvents() == 0
                    && s.getForwardLagBytes() == 0 && s.getForwardPosition() >= s.getCommittedPosition();
        });
        return last[0];
    }

    /** Every event of $all, read back from the daemon. */
    private static List<RecordedEvent> storedEvents(ForwardDaemon d) throws Exception {
        List<RecordedEvent> all = new ArrayList<>();
        try (RingStoreClient c = d.connect()) {
            long at = 0;
            while (true) {
                AllPage p = c.readAll(at, 1000).get(10, TimeUnit.SECONDS);
                all.addAll(p.events());
                at = p.nextPosition();
                if (p.end()) {
                    return all;
                }
            }
        }
    }

    /**
     * The JetStream stream holds exactly the stored events: as many per subject, one message per
     * event id (its Nats-Msg-Id and header), and per stream in version order.
     */
    private static void assertSameEvents(List<RecordedEvent> stored, List<MessageInfo> messages) {
        Map<String, List<Long>> storedVersions = new LinkedHashMap<>();
        Set<String> storedIds = new HashSet<>();
        for (RecordedEvent e : stored) {
            storedVersions.computeIfAbsent("ringstore.b1." + Subjects.safe(e.stream()), k -> new ArrayList<>()).add(e.version());
            assertTrue(storedIds.add(Subjects.uuid(e.eventId())), "stored event ids are unique");
        }
        Map<String, List<Long>> sentVersions = new HashMap<>();
        Set<String> msgIds = new HashSet<>();
        for (MessageInfo m : messages) {
            String msgId = m.getHeaders().getFirst("Nats-Msg-Id");
            assertTrue(msgIds.add(msgId), "one message per Nats-Msg-Id: " + msgId + " twice");
            assertEquals(msgId, m.getHeaders().getFirst("Ringstore-Event-Id"));
            sentVersions.computeIfAbsent(m.getSubject(), k -> new ArrayList<>())
                    .add(Long.parseLong(m.getHeaders().getFirst("Ringstore-Version")));
        }
        for (Map.Entry<String, List<Long>> e : storedVersions.entrySet()) {
            assertEquals(e.getValue().size(), sentVersions.getOrDefault(e.getKey(), List.of()).size(),
                    "messages on " + e.getKey());
            assertEquals(e.getValue(), sentVersions.get(e.getKey()), "versions in order on " + e.getKey());
        }
        assertEquals(storedVersions.keySet(), sentVersions.keySet(), "subjects");
        assertEquals(stored.size(), messages.size(), "messages in the JetStream stream");
        assertEquals(storedIds, msgIds, "Nats-Msg-Id = event id, for every stored event");
    }

    @Test
    void everyStoredEventReachesJetStreamOnceThroughKillsAndStopsOfBothSides() throws Exception {
        try (NatsServer nats = new NatsServer(dir.resolve("nats")).start();
             ForwardDaemon d = new ForwardDaemon(dir.resolve("rs"), nats.url(), NatsServer.PASSWORD)) {
            nats.addStream("RS", Duration.ofMinutes(2));
            d.start();
            try (Producer producer = new Producer(d)) {
                producer.awaitMore(150);
                awaitForwardedBeyond(d, 100);

                d.kill(); // SIGKILL the daemon mid-flow
                d.start();
                producer.awaitMore(150);
                awaitForwardedBeyond(d, forwarded(d));

                long before = forwarded(d);
                nats.kill(); // kill -9 nats-server mid-flow
                producer.awaitMore(100);
                StatusResponse down = d.status();
                assertTrue(down.getForwardLagEvents() > 0, "lag grows while NATS is down: " + down);
                nats.start();
                awaitForwardedBeyond(d, Math.max(before, forwarded(d)));

                d.stop(); // clean stop of the daemon
                d.start();
                producer.awaitMore(150);
                awaitForwardedBeyond(d, forwarded(d));

                nats.stop(); // clean stop of nats-server
                producer.awaitMore(100);
                nats.start();
                producer.awaitMore(100);
            }
            StatusResponse end = awaitCaughtUp(d);
            List<RecordedEvent> stored = storedEvents(d);
            List<MessageInfo> messages = nats.messages("RS");
            System.out.println("stored=" + stored.size() + " jetstream=" + messages.size() + " forwarded(status)="
                    + end.getForwardEvents());
            assertSameEvents(stored, messages);
            MessageInfo kitchen = messages.stream().filter(m -> m.getSubject().startsWith("ringstore.b1.kitchen")).findFirst()
                    .orElseThrow();
            assertEquals("ringstore.b1.kitchen%2Etemp", kitchen.getSubject(), "a dot in a stream name is escaped");
            assertEquals("kitchen.temp", kitchen.getHeaders().getFirst("Ringstore-Stream"));
            assertEquals("reading", kitchen.getHeaders().getFirst("Ringstore-Type"));
            assertTrue(new String(kitchen.getData(), StandardCharsets.UTF_8).startsWith("{\"n\":"), "data as stored");
            // One journal line per outage, not one per retry.
            long failures = d.journal().stream().filter(l -> l.contains("forward:") && l.contains("retrying in")).count();
            assertTrue(failures >= 2 && failures <= 8, "failures said once per change: " + failures);
        }
    }

    @Test
    void natsDownAtStartThenAWrongPasswordThenNoStreamAreClearErrorsAndNothingIsLost() throws Exception {
        NatsServer nats = new NatsServer(dir.resolve("nats"));
        try (nats; ForwardDaemon d = new ForwardDaemon(dir.resolve("rs"), nats.url(), NatsServer.PASSWORD)) {
            d.start();
            try (RingStoreClient c = d.connect()) {
                for (int i = 0; i < 50; i++) {
                    c.append(STREAMS.get(i % 3), ExpectedVersion.ANY, List.of(EventData.of("reading", new byte[] {(byte) i})))
                            .get(10, TimeUnit.SECONDS);
                }
            }
            await("NATS unreachable in status", 30_000, () -> {
                StatusResponse s = d.status();
                return s != null && s.getForwardState().equals("backing-off")
                        && s.getForwardLastError().contains("cannot reach NATS") && s.getForwardLagEvents() == 50;
            });
            nats.start("not-the-password");
            await("wrong password in status", 45_000,
                    () -> d.status().getForwardLastError().contains("refused the credentials"));
            nats.stop();
            nats.start(); // the right password, but no stream yet
            await("missing stream in status", 45_000,
                    () -> d.status().getForwardLastError().contains("JetStream stream 'RS' does not exist"));
            assertTrue(d.status().getForwardLastError().contains("nats stream add RS --subjects 'ringstore.b1.>'"),
                    d.status().getForwardLastError());
            assertTrue(d.process().isAlive(), "the daemon serves on");
            nats.addStream("RS", Duration.ofMinutes(2));
            StatusResponse end = awaitCaughtUp(d);
            assertEquals(50, end.getForwardEvents());
            // What `ringstore status` and the JSON socket print; the status line's part.
            @SuppressWarnings("unchecked")
            Map<String, Object> shown = (Map<String, Object>) io.ringstore.jsonlines.JsonLines.statusObject(end).get("forward");
            assertEquals("forwarding", shown.get("state"));
            assertEquals(50L, ((Number) shown.get("forwarded_events")).longValue());
            assertEquals(nats.url(), shown.get("url"));
            assertTrue(d.journal().stream().anyMatch(l -> l.contains("status ") && l.contains("forward=")),
                    "the status line carries the forwarder's state");
            assertSameEvents(storedEvents(d), nats.messages("RS"));
            List<String> j = d.journal();
            for (String said : List.of("cannot reach NATS", "refused the credentials", "does not exist")) {
                long n = j.stream().filter(l -> l.contains("forward:") && l.contains(said)).count();
                assertTrue(n >= 1 && n <= 2, "'" + said + "' said once per change, not per retry: " + n + " times");
            }
            assertTrue(j.stream().noneMatch(l -> l.contains(NatsServer.PASSWORD)), "the password never reaches the journal");
        }
    }
}
