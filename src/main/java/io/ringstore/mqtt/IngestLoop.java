package io.ringstore.mqtt;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.Durability;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * The thread that stores what the broker delivers and acknowledges it once it is durable
 * ({@code ringstore-mqtt-ingest}).
 *
 * <p>It works in rounds: it takes every message that has arrived (at most the broker's
 * receive maximum are unacknowledged at once, so the inbox stays bounded), maps each to its
 * stream, and appends each stream's messages in arrival order as one request per run of
 * messages that all have, or all lack, an event id (the store remembers ids only for appends
 * whose ids are all chosen). All streams' requests of a round go to the writer together and
 * share one group commit. Only when every message of the round is resolved are the PUBACKs sent,
 * in arrival order, as MQTT asks.
 *
 * <p>Order per topic (so per stream) holds because a stream's messages of a round are one
 * atomic request (all stored or none), the next request of that stream is submitted only after
 * this one is resolved, and a request the store refuses for a passing reason (storage full, I/O
 * error, overloaded, shutting down, not primary) is retried in place, holding the round, until it
 * succeeds: nothing later of that stream can overtake it.
 *
 * <p>A message that cannot be stored (no rule matches, empty type, a stream name the store
 * refuses, too large, a bad event id) is written to the journal, counted, and acknowledged all
 * the same: left unacknowledged it would be redelivered for ever and hold the session's queue.
 *
 * <p>Crash window: between the append's force and the PUBACK (this thread, or the daemon, dies;
 * or the connection drops, after which a PUBACK for the old connection is not sent because the
 * broker may reuse the packet id) the broker still holds the message and delivers it again. With
 * an event id the store recognises it (replayed, not stored again); without one it is stored a
 * second time. README ("MQTT in") says so.
 */
final class IngestLoop implements Runnable {
    /** The connection a message came on: PUBACKs go back on it while it is up. */
    interface Link {
        boolean alive();

        /** Sends the PUBACK; a connection that dropped meanwhile ignores it (the broker redelivers). */
        void ack(int messageId);
    }

    /** One delivered message, as Paho handed it over. */
    record Inbound(Link link, int messageId, String topic, byte[] payload, String contentType,
                   List<Map.Entry<String, String>> userProperties, boolean retained) {}

    /** Most messages taken into one round (and so into one group commit). */
    static final int MAX_ROUND = 1024;
    /** Most events, and bytes of data, in one append request (well inside a log segment). */
    static final int MAX_RUN = 256;
    static final long MAX_RUN_BYTES = 256 * 1024;
    private static final long RETRY_FIRST_MILLIS = 1_000;
    private static final long RETRY_MAX_MILLIS = 30_000;
    /** Failure lines per minute in the journal before they are only counted (a flood of bad messages). */
    private static final int FAILURE_LINES_PER_MINUTE = 20;

    private final LinkedBlockingQueue<Inbound> inbox = new LinkedBlockingQueue<>();
    private final Supplier<RingStore> store;
    private final MessageMapper mapper;
    final AtomicLong stored = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong replayed = new AtomicLong();
    final RateMeter rate = new RateMeter();
    private final java.util.function.Consumer<String> lastError;
    private volatile boolean stopping;
    private long failureMinute;
    private int failureLines;
    private int suppressed;

    IngestLoop(Supplier<RingStore> store, MessageMapper mapper, java.util.function.Consumer<String> lastError) {
        this.store = store;
        this.mapper = mapper;
        this.lastError = lastError;
    }

    /** From Paho's callback thread: never blocks. */
    void offer(Inbound m) {
        inbox.add(m);
    }

    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        List<Inbound> round = new ArrayList<>();
        while (!stopping) {
            Inbound first;
            try {
                first = inbox.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (first == null) {
                continue;
            }
            round.clear();
            round.add(first);
            inbox.drainTo(round, MAX_ROUND - 1);
            // Messages of a connection that has dropped are stored all the same (only their
            // PUBACKs are not sent): a broker that was SIGKILLed may have held them only in
            // memory and never deliver them again. The price is a duplicate, without an event
            // id, when it does.
            process(round);
        }
    }

    /** A run: consecutive messages of one stream (by arrival), all with or all without an event id. */
    private static final class Run {
        final String stream;
        final boolean ids;
        final List<Integer> members = new ArrayList<>();
        long bytes;

        Run(String stream, boolean ids) {
            this.stream = stream;
            this.ids = ids;
        }
    }

    void process(List<Inbound> round) {
        int n = round.size();
        boolean[] resolved = new boolean[n];
        MessageMapper.Mapped[] mapped = new MessageMapper.Mapped[n];
        Map<String, List<Run>> byStream = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Inbound m = round.get(i);
            try {
                mapped[i] = mapper.map(m.topic(), m.payload(), m.contentType(), m.userProperties(), m.retained());
            } catch (MessageMapper.Unstorable e) {
                fail(m, e.getMessage());
                resolved[i] = true;
                continue;
            }
            List<Run> runs = byStream.computeIfAbsent(mapped[i].stream(), k -> new ArrayList<>());
            boolean ids = mapped[i].event().eventId() != null;
            Run last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            int size = m.payload().length;
            if (last == null || last.ids != ids || last.members.size() >= MAX_RUN || last.bytes + size > MAX_RUN_BYTES) {
                last = new Run(mapped[i].stream(), ids);
                runs.add(last);
            }
            last.members.add(i);
            last.bytes += size;
        }
        // Wave k holds each stream's k-th run: a stream's next run is submitted only after its
        // previous one is resolved, and the waves' runs of different streams share a group commit.
        // The round is finished even when stopping (the store is still open): fewer redeliveries.
        for (int wave = 0; ; wave++) {
            List<Run> runs = new ArrayList<>();
            for (List<Run> r : byStream.values()) {
                if (wave < r.size()) {
                    runs.add(r.get(wave));
                }
            }
            if (runs.isEmpty()) {
                break;
            }
            List<CompletableFuture<AppendResult>> futures = new ArrayList<>(runs.size());
            for (Run r : runs) {
                futures.add(submit(r.stream, events(r.members, mapped)));
            }
            for (int k = 0; k < runs.size(); k++) {
                if (!resolve(runs.get(k), futures.get(k), round, mapped)) {
                    // Stopping: what is not acknowledged is delivered again on the next start.
                    ackPrefix(round, resolved);
                    return;
                }
                for (int i : runs.get(k).members) {
                    resolved[i] = true;
                }
            }
        }
        ackPrefix(round, resolved);
    }

    /** PUBACKs, in arrival order, for the messages resolved before the first one that is not. */
    private void ackPrefix(List<Inbound> round, boolean[] resolved) {
        for (int i = 0; i < round.size() && resolved[i]; i++) {
            Inbound m = round.get(i);
            if (m.link().alive()) {
                m.link().ack(m.messageId());
            }
        }
    }

    private static List<EventData> events(List<Integer> members, MessageMapper.Mapped[] mapped) {
        List<EventData> events = new ArrayList<>(members.size());
        for (int i : members) {
            events.add(mapped[i].event());
        }
        return events;
    }

    private CompletableFuture<AppendResult> submit(String stream, List<EventData> events) {
        RingStore s = store.get();
        if (s == null) {
            return CompletableFuture.failedFuture(new RingStoreException(ErrorCode.SHUTTING_DOWN, "the store is not open"));
        }
        return s.append(stream, ExpectedVersion.ANY, events);
    }

    /**
     * Waits for a run's append; on a passing refusal retries it in place; on a lasting one
     * (one bad message can refuse a whole run) stores the run's messages one by one so that only
     * the bad ones fail. False when the ingress stops before the run is resolved.
     */
    private boolean resolve(Run run, CompletableFuture<AppendResult> first, List<Inbound> round,
                            MessageMapper.Mapped[] mapped) {
        CompletableFuture<AppendResult> future = first;
        long backoff = RETRY_FIRST_MILLIS;
        boolean held = false;
        while (true) {
            Throwable failure;
            try {
                AppendResult r = future.get();
                awaitDurable(r);
                if (held) {
                    Logger.info("mqtt: the store takes appends again; storing resumes");
                }
                counted(run.members.size(), r.replayed());
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException e) {
                failure = e.getCause();
            }
            if (!passing(failure)) {
                if (run.members.size() == 1) {
                    fail(round.get(run.members.get(0)), describe(failure));
                    return true;
                }
                // One bad message (too large, say), or a redelivered run whose ids the store
                // remembers only in part (EVENT_ID_CONFLICT): one by one, each gets its own answer.
                for (int i : run.members) {
                    Run one = new Run(run.stream, run.ids);
                    one.members.add(i);
                    if (!resolve(one, submit(run.stream, events(one.members, mapped)), round, mapped)) {
                        return false;
                    }
                }
                return true;
            }
            if (!held) {
                held = true;
                String why = describe(failure);
                lastError.accept("store refuses appends: " + why);
                Logger.warn("mqtt: the store refuses appends ({}): holding {} message(s) unacknowledged (the broker keeps "
                        + "them), retrying", why, run.members.size());
            }
            if (stopping || sleep(backoff)) {
                return false;
            }
            backoff = Math.min(backoff * 2, RETRY_MAX_MILLIS);
            future = submit(run.stream, events(run.members, mapped));
        }
    }

    /**
     * With durability=periodic an append is acknowledged before its force: the PUBACK waits for
     * the force (at most force_interval_ms). With none nothing forces until a clean stop: the
     * PUBACK goes at once (the daemon says so at start).
     */
    private void awaitDurable(AppendResult r) throws InterruptedException {
        if (r.durability() != Durability.PERIODIC) {
            return;
        }
        RingStore s = store.get();
        while (s != null && s.log().durablePosition() <= r.lastPosition() && !stopping) {
            Thread.sleep(5);
        }
    }

    /** Refusals that go away by themselves: retried in place (the message is not acknowledged meanwhile). */
    static boolean passing(Throwable t) {
        if (!(t instanceof RingStoreException e)) {
            return true;
        }
        return switch (e.code()) {
            case INVALID_REQUEST, STREAM_DELETED, EVENT_ID_CONFLICT, FRAME_TOO_LARGE, WRONG_EXPECTED_VERSION,
                 ACCESS_DENIED -> false;
            default -> true;
        };
    }

    private static String describe(Throwable t) {
        return t instanceof RingStoreException e ? e.code() + ": " + e.getMessage() : t.toString();
    }

    private void counted(int messages, boolean wasReplayed) {
        stored.addAndGet(messages);
        if (wasReplayed) {
            replayed.addAndGet(messages);
        }
        rate.add(messages, System.nanoTime());
    }

    private void fail(Inbound m, String why) {
        failures.incrementAndGet();
        String text = "message on topic '" + MessageMapper.shorten(m.topic()) + "' (" + m.payload().length
                + " bytes) not stored: " + why;
        lastError.accept(text);
        long minute = System.nanoTime() / 60_000_000_000L;
        if (minute != failureMinute) {
            if (suppressed > 0) {
                Logger.warn("mqtt: {} more message(s) not stored in the last minute (not each in the journal)", suppressed);
            }
            failureMinute = minute;
            failureLines = 0;
            suppressed = 0;
        }
        if (failureLines++ < FAILURE_LINES_PER_MINUTE) {
            Logger.warn("mqtt: {}; acknowledged to the broker anyway so that it does not block the session", text);
        } else {
            suppressed++;
        }
    }

    /** Sleeps unless stopping; true when the ingress stops. */
    private boolean sleep(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (!stopping) {
            long left = (end - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return false;
            }
            try {
                Thread.sleep(Math.min(left, 100));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return true;
    }
}
