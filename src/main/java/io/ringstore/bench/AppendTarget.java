package io.ringstore.bench;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/** Something the load driver appends to: the store, or the plain-file baseline. */
interface AppendTarget extends AutoCloseable {

    /** Short label for tables: "store" or "baseline". */
    String label();

    /** Appends one event; the future completes when it is acknowledged (durable, in sync mode). */
    CompletableFuture<?> append(String stream, byte[] payload);

    /** Group-commit counters so far. */
    BatchStats stats();

    @Override
    void close() throws IOException;
}
