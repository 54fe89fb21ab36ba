package io.ringstore.forward;

import static io.ringstore.forward.ForwardDaemon.await;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forwarding measured (not part of the suite): a daemon as the systemd unit runs it, a local
 * nats-server with JetStream (file storage), events of the standard workload (256-byte payloads,
 * 10,000 streams chosen at random, seeded).
 * <ol>
 *   <li>catch-up rate: {@code ringstore.forward.bench.backlog} events stored while NATS is down,
 *       then NATS starts: events/s from the first acknowledgement until the lag is 0;</li>
 *   <li>lag under load: a steady producer at each rate of {@code ringstore.forward.bench.rates}
 *       for {@code ...seconds}: lag (events, seconds) sampled every 200 ms;</li>
 *   <li>an outage: the producer at {@code ...outage.rate} ev/s, NATS killed (SIGKILL) for
 *       {@code ...outage.seconds}, restarted: time to reconnect (the back off) and to catch up.</li>
 * </ol>
 * <pre>
 * nice mvn -q -B test -Dtest=ForwardBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dringstore.forward.bench=1 \
 *   -Dringstore.forward.bench.outage.seconds=600
 * </pre>
 */
@EnabledIfSystemProperty(named = "ringstore.forward.bench", matches = "1")
class ForwardBenchmark {
    @TempDir
    Path dir;

    private static long prop(String name, long fallback) {
        return Long.getLong("ringstore.forward.bench." + name, fallback);
    }

    /** Appends at a steady rate (pipelined, at most 512 in flight), to random streams of 10,000. */
    private static final class SteadyProducer implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong acked = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final Thread thread;

        SteadyProducer(Path socket, long ratePerSecond, long total) {
            thread = Thread.ofPlatform().name("producer").start(() -> {
                SplittableRandom random = new SplittableRandom(42);
                byte[] payload = new byte[256];
                random.nextBytes(payload);
                Semaphore inFlight = new Semaphore(512);
                try (RingStoreClient c = RingStoreClient.connect(socket)) {
                    long start = System.nanoTime();
                    for (long i = 0; !stop.get() && i < total; i++) {
                        if (ratePerSecond > 0) {
                            long due = start + i * 1_000_000_000L / ratePerSecond;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                        inFlight.acquire();
                        String stream = "stream-" + random.nextInt(10_000);
                        c.append(stream, ExpectedVersion.ANY, List.of(EventData.of("bench", payload)))
                                .whenComplete((r, e) -> {
                                    inFlight.release();
                                    (e == null ? acked : failed).incrementAndGet();
                                });
                    }
                    inFlight.acquire(512);
                } catch (Exception e) {
                    System.out.println("producer ended: " + e);
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(60_000);
        }
    }

    private static double pct(List<Double> v, double p) {
        if (v.isEmpty()) {
            return 0;
        }
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get((int) Math.min(s.size() - 1, Math.floor(p * s.size())));
    }

    @Test
    void measure() throws Exception {
        long backlog = prop("backlog", 100_000);
        String[] rates = System.getProperty("ringstore.forward.bench.rates", "1000,5000").split(",");
        long loadSeconds = prop("seconds", 30);
        long outageRate = prop("outage.rate", 1000);
        long outageSeconds = prop("outage.seconds", 60);
        try (NatsServer nats = new NatsServer(dir.resolve("nats"));
             ForwardDaemon d = new ForwardDaemon(dir.resolve("rs"), nats.url(), NatsServer.PASSWORD).asInService()) {
            d.start();
            d.connect().close();

            // 1. catch-up rate from a backlog (0: skipped)
            if (backlog > 0) {
                try (SteadyProducer p = new SteadyProducer(d.socket, 0, backlog)) {
                    p.thread.join();
                }
            }
            nats.start();
            nats.addStream("RS", Duration.ofHours(2));
            if (backlog > 0) {
                await("first forwarded", 120_000, 100, () -> d.status().getForwardEvents() > 0);
                long t0 = System.nanoTime();
                long f0 = d.status().getForwardEvents();
                await("backlog forwarded", 600_000, 200, () -> d.status().getForwardLagEvents() == 0);
                double secs = (System.nanoTime() - t0) / 1e9;
                long f1 = d.status().getForwardEvents();
                System.out.printf(Locale.ROOT, "BENCH catch-up: backlog=%d events forwarded=%d in %.2f s = %.0f events/s%n",
                        backlog, f1 - f0, secs, (f1 - f0) / secs);
            }

            // 2. lag under a steady load
            for (String r : rates) {
                if (r.isBlank()) {
                    continue;
                }
                long rate = Long.parseLong(r.strip());
                List<Double> lagEvents = new ArrayList<>();
                List<Double> lagSeconds = new ArrayList<>();
                long before = d.status().getForwardEvents();
                long start = System.nanoTime();
                try (SteadyProducer p = new SteadyProducer(d.socket, rate, rate * loadSeconds)) {
                    while (p.thread.isAlive()) {
                        Thread.sleep(200);
                        StatusResponse s = d.status();
                        lagEvents.add((double) s.getForwardLagEvents());
                        lagSeconds.add(s.getForwardLagSeconds());
                    }
                    double el = (System.nanoTime() - start) / 1e9;
                    await("caught up", 120_000, 200, () -> d.status().getForwardLagEvents() == 0);
                    long fwd = d.status().getForwardEvents() - before;
                    System.out.printf(Locale.ROOT, "BENCH steady %d ev/s for %d s: appended=%d (failed %d) forwarded=%d "
                                    + "achieved=%.0f ev/s lag events p50=%.0f p99=%.0f max=%.0f; lag seconds p50=%.2f p99=%.2f max=%.2f%n",
                            rate, loadSeconds, p.acked.get(), p.failed.get(), fwd, p.acked.get() / el,
                            pct(lagEvents, 0.5), pct(lagEvents, 0.99), pct(lagEvents, 1.0),
                            pct(lagSeconds, 0.5), pct(lagSeconds, 0.99), pct(lagSeconds, 1.0));
                }
            }

            // 3. an outage at a steady ingest rate
            try (SteadyProducer p = new SteadyProducer(d.socket, outageRate, Long.MAX_VALUE)) {
                Thread.sleep(5_000);
                nats.kill();
                long down = System.nanoTime();
                Thread.sleep(outageSeconds * 1000);
                StatusResponse atRestart = d.status();
                nats.start();
                long up = System.nanoTime();
                long forwardedAtRestart = atRestart.getForwardEvents();
                await("reconnected", 120_000, 100, () -> d.status().getForwardEvents() > forwardedAtRestart);
                long reconnected = System.nanoTime();
                await("caught up after the outage", 3_600_000, 200, () -> {
                    StatusResponse s = d.status();
                    return s.getForwardLagEvents() < outageRate / 5; // within 200 ms of ingest
                });
                long caughtUp = System.nanoTime();
                System.out.printf(Locale.ROOT, "BENCH outage: ingest=%d ev/s (achieved %.0f), NATS down %.1f s, lag at restart "
                                + "%d events / %d bytes / %.1f s; reconnect after %.1f s (back off); caught up %.1f s after "
                                + "reconnecting (%.1f s after NATS came back); drain rate while catching up %.0f events/s%n",
                        outageRate, p.acked.get() / ((caughtUp - down) / 1e9 + 5), (up - down) / 1e9,
                        atRestart.getForwardLagEvents(), atRestart.getForwardLagBytes(), atRestart.getForwardLagSeconds(),
                        (reconnected - up) / 1e9, (caughtUp - reconnected) / 1e9, (caughtUp - up) / 1e9,
                        (atRestart.getForwardLagEvents() + outageRate * (caughtUp - up) / 1e9) / ((caughtUp - reconnected) / 1e9));
            }
            // The producer ran on while the outage's catch-up was judged: let the forwarder finish.
            await("caught up at the end", 600_000, 200, () -> d.status().getForwardLagEvents() == 0);
            StatusResponse end = d.status();
            long js = nats.count("RS");
            System.out.printf("BENCH check: forwarded=%d jetstream_messages=%d committed_events=%d%n",
                    end.getForwardEvents(), js, end.getEventsAppended());
        }
    }
}
