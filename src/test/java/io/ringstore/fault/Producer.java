package io.ringstore.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.store.RingStore;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of the store that owns a few streams and appends with exact expected versions,
 * retrying a failed append with the same events and event ids, as a careful client would. A
 * failed append must have left no trace: if the stream table or the idempotency window kept
 * anything of it, the retry shows it as a wrong expected version or as a replay.
 *
 * <p>Seeded: the same id gives the same appends. Used by one thread at a time.
 */
final class Producer {
    static final long APPEND_TIMEOUT_SECONDS = 10;

    /** An append to (re)try: a retry sends the same events with the same ids. */
    record Attempt(int stream, List<EventData> events) {}

    final int id;
    final SplittableRandom random;
    final long[] versions;
    /** The last append, if it failed; {@link #next} returns it again. */
    Attempt pending;

    Producer(int id, int streams, long seed) {
        this.id = id;
        this.random = new SplittableRandom(seed + id);
        this.versions = new long[streams];
        Arrays.fill(versions, -1);
    }

    String stream(int s) {
        return "p" + id + "-s" + s;
    }

    /** The failed append to retry, or a new one: 1-3 events, mostly small, some of a few KiB. */
    Attempt next() {
        if (pending != null) {
            return pending;
        }
        int count = 1 + random.nextInt(3);
        List<EventData> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(event(random.nextInt(5) == 0 ? 2000 + random.nextInt(4000) : 20 + random.nextInt(800)));
        }
        return new Attempt(random.nextInt(versions.length), events);
    }

    /** One event of {@code size} data bytes and a client-chosen id. */
    Attempt single(int stream, int size) {
        return new Attempt(stream, List.of(event(size)));
    }

    EventData event(int size) {
        byte[] eventId = new byte[EventData.EVENT_ID_LENGTH];
        byte[] data = new byte[size];
        random.nextBytes(eventId);
        random.nextBytes(data);
        return new EventData(eventId, "t" + (size % 7), data, new byte[] {(byte) size});
    }

    /**
     * Appends {@code a} with the stream's exact expected version and waits for the outcome, which
     * must come in time and be either an acknowledgement that continues the stream or a
     * {@link RingStoreException} with code {@code failureCode}.
     *
     * @return true when acknowledged (recorded in {@code ledger}); false when it failed
     */
    boolean append(RingStore store, Attempt a, ErrorCode failureCode, Ledger ledger) throws InterruptedException {
        long version = versions[a.stream()];
        ExpectedVersion expected = version < 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(version);
        String stream = stream(a.stream());
        CompletableFuture<AppendResult> future = store.append(stream, expected, a.events());
        AppendResult r;
        try {
            r = future.get(APPEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail("append did not complete within " + APPEND_TIMEOUT_SECONDS + " s: stream=" + stream);
        } catch (ExecutionException e) {
            RingStoreException error = assertInstanceOf(RingStoreException.class, e.getCause(),
                    "an append must fail with a typed error");
            assertEquals(failureCode, error.code(), "code of a failed append: " + error.getMessage());
            ledger.failures.add(error.code());
            pending = a;
            return false;
        }
        assertFalse(r.replayed(), "an append that was not stored before must be written, not replayed: " + r);
        assertEquals(version + 1, r.firstVersion(), "first version of " + stream);
        assertEquals(version + a.events().size(), r.lastVersion(), "last version of " + stream);
        versions[a.stream()] = r.lastVersion();
        ledger.acked.add(new Ledger.Acked(stream, a.events(), r));
        pending = null;
        return true;
    }
}
