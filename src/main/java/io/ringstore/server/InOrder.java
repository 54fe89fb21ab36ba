package io.ringstore.server;

import io.ringstore.protocol.v1.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a JSON-lines connection's answers back in the order of its requests before they reach
 * the {@link Outbound}. The connection numbers its lines 1, 2, 3...; answers complete in any
 * order (a read on its own thread, appends at the writer's batch end), and one that comes before
 * its turn is held here, with its release, until every earlier line has been answered. Held
 * answers keep their in-flight permits, so what waits here is bounded by the in-flight limit.
 *
 * <p>A subscribe is the last request of its connection: once it is the head, every update of it
 * goes straight out, and nothing after it is ever numbered (the connection stops taking lines).
 */
final class InOrder {
    private final Outbound outbound;
    private final Map<Long, List<Held>> held = new HashMap<>();
    private long next = 1;

    private record Held(Response response, Runnable release) {}

    InOrder(Outbound outbound) {
        this.outbound = outbound;
    }

    /** Sends {@code response} now if it is the head's, else holds it until its turn. */
    synchronized void send(Response response, Runnable release) {
        long id = response.getId();
        if (id != next) {
            held.computeIfAbsent(id, k -> new ArrayList<>(1)).add(new Held(response, release));
            return;
        }
        pass(response, release);
        List<Held> ready;
        while ((ready = held.remove(next)) != null) {
            for (Held h : ready) {
                pass(h.response(), h.release());
            }
        }
    }

    /** Writes an answer of the head; an answer other than a subscription update ends its line's turn. */
    private void pass(Response response, Runnable release) {
        outbound.send(response, release);
        if (!response.hasSubscription()) {
            next++;
        }
    }
}
