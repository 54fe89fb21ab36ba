package io.ringstore.forward;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes sent and not yet acknowledged, in log order. JetStream may acknowledge them in any
 * order; the checkpoint may only move over an unbroken run of acknowledged ones from the oldest,
 * so it is always a position below which everything is acknowledged.
 */
final class AckWindow {
    /**
     * One publish, or a range with nothing to publish (events hidden by their stream's limits,
     * or reclaimed before they could be sent): {@code ack} null.
     *
     * @param next where the log continues after it: the checkpoint once it and all before it are acknowledged
     */
    record Entry(long next, int bytes, CompletableFuture<Boolean> ack, long sentNanos) {}

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long bytes;
    private int publishes;

    void add(long next, int payloadBytes, CompletableFuture<Boolean> ack, long nowNanos) {
        entries.addLast(new Entry(next, payloadBytes, ack, nowNanos));
        bytes += payloadBytes;
        if (ack != null) {
            publishes++;
        }
    }

    /** What {@link #drain} took off: the new checkpoint position (-1: none), events, duplicates among them. */
    record Drained(long position, int events, int duplicates) {}

    /**
     * Takes off the acknowledged run from the oldest.
     *
     * @throws java.util.concurrent.CompletionException when the oldest publish failed
     */
    Drained drain() {
        long position = -1;
        int events = 0;
        int duplicates = 0;
        while (!entries.isEmpty()) {
            Entry e = entries.peekFirst();
            if (e.ack() != null) {
                if (!e.ack().isDone()) {
                    break;
                }
                if (e.ack().join()) { // throws when it failed
                    duplicates++;
                }
                events++;
                publishes--;
            }
            entries.removeFirst();
            bytes -= e.bytes();
            position = e.next();
        }
        return new Drained(position, events, duplicates);
    }

    /** The oldest entry still waiting, or null. */
    Entry oldest() {
        return entries.peekFirst();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int publishes() {
        return publishes;
    }

    long bytes() {
        return bytes;
    }

    void clear() {
        entries.clear();
        bytes = 0;
        publishes = 0;
    }
}
