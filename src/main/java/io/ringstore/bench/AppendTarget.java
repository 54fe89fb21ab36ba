package io.ringstore.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Something the load driver appends to: the store (in-process or through its socket), SQLite, a plain file. */
interface AppendTarget extends AutoCloseable {

    /** Short label for tables, e.g. "store" or "limit". */
    String label();

    /** Appends one event; the future completes when it is acknowledged (durable, in sync mode). */
    CompletableFuture<?> append(String stream, byte[] payload);

    /**
     * Appends one event on behalf of producer {@code producer} (0-based): a target with one
     * connection per producer (the socket) uses that producer's own connection.
     */
    default CompletableFuture<?> append(int producer, String stream, byte[] payload) {
        return append(stream, payload);
    }

    /** Whether the load driver sends a producer's free window as one {@link #appendBatch} (socket-multi). */
    default boolean appendsInBatches() {
        return false;
    }

    /** Appends one event to each stream in one request; one future per event, in order. */
    default List<? extends CompletableFuture<?>> appendBatch(int producer, List<String> streams, byte[] payload) {
        throw new UnsupportedOperationException(label() + " appends one event per request");
    }

    /**
     * Appends one event and waits for its acknowledgement, as a blocking client does (the load
     * driver's producers at one in flight). A target whose client can read its own answer on the
     * calling thread (the socket's {@code RingStoreClient.appendAndWait}) does so; the others wait
     * for their future.
     *
     * @throws RuntimeException what the append failed with
     */
    default void appendAndWait(int producer, String stream, byte[] payload) {
        try {
            append(producer, stream, payload).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Waits until nothing the target deferred after acknowledging is left (the store's splitter
     * has moved every event to its stream file; see {@link DrainWait}), so a device window closed
     * afterwards holds all the writes the appends cause. Returns the events still deferred when
     * it stopped waiting (0: none).
     */
    default long settle(long timeoutMillis, long stallMillis, PrintStream log, long progressMillis)
            throws IOException, InterruptedException {
        return 0;
    }

    /** CPU seconds used so far by processes other than this JVM that do the target's work (a daemon), else 0. */
    default double childCpuSeconds() {
        return 0;
    }

    /** The process id of a daemon child doing the target's work, or -1 when that is this JVM. */
    default long childPid() {
        return -1;
    }

    /** Peak RSS of the process that holds the data (a daemon child), or -1 when that is this JVM. */
    default long childPeakRssBytes() {
        return -1;
    }

    /** Group-commit counters so far. */
    BatchStats stats();

    /**
     * The store's main-log segment rolls so far and how many of them recycled the spare segment,
     * asked of the store now; null for a target without such a log.
     */
    default LogRolls logRolls() throws IOException {
        return null;
    }

    /** Main-log segment rolls, and those into a recycled segment (see the status's segment_rolls). */
    record LogRolls(long rolls, long recycled) {
        LogRolls since(LogRolls earlier) {
            return new LogRolls(rolls - earlier.rolls, recycled - earlier.recycled);
        }

        /** "3 rolls, 3 into the recycled spare". */
        String describe() {
            return String.format(java.util.Locale.ROOT, "%,d segment roll%s, %,d into the recycled spare", rolls,
                    rolls == 1 ? "" : "s", recycled);
        }
    }

    @Override
    void close() throws IOException;
}
