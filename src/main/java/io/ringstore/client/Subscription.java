package io.ringstore.client;

import io.ringstore.error.RingStoreException;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.SubscriptionUpdate;
import java.util.concurrent.CompletableFuture;

/** A subscription on a client connection; {@link #close} ends it. */
public final class Subscription implements AutoCloseable {
    private final RingStoreClient client;
    private final long id;
    private final SubscriptionListener listener;
    private final CompletableFuture<Long> confirmed = new CompletableFuture<>();
    private final CompletableFuture<RuntimeException> ended = new CompletableFuture<>();
    private volatile long lastPosition = -1;

    Subscription(RingStoreClient client, long id, SubscriptionListener listener) {
        this.client = client;
        this.id = id;
        this.listener = listener;
    }

    /** The request id the server knows it by. */
    public long id() {
        return id;
    }

    /** Completes with the committed position when the server has started the subscription. */
    public CompletableFuture<Long> confirmed() {
        return confirmed;
    }

    /** Completes when the subscription has ended, with the reason (null: closed by us). */
    public CompletableFuture<RuntimeException> ended() {
        return ended;
    }

    /** The position of the last event delivered, -1 before the first. */
    public long lastPosition() {
        return lastPosition;
    }

    /** Handles one response for this subscription; true when it was the last. */
    boolean on(Response r) {
        switch (r.getResultCase()) {
            case SUBSCRIPTION -> {
                SubscriptionUpdate u = r.getSubscription();
                switch (u.getKindCase()) {
                    case EVENT -> {
                        RecordedEvent e = RecordedEvent.of(u.getEvent());
                        lastPosition = e.position();
                        listener.onEvent(e);
                    }
                    case CONFIRMED -> {
                        confirmed.complete(u.getConfirmed().getCommittedPosition());
                        listener.onConfirmed(u.getConfirmed().getCommittedPosition());
                    }
                    case CAUGHT_UP -> listener.onCaughtUp(u.getCaughtUp().getPosition());
                    case KIND_NOT_SET -> { }
                }
                return false;
            }
            case ERROR -> {
                end(RingStoreClient.exception(r.getError()));
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    void end(RuntimeException error) {
        if (ended.complete(error)) {
            if (error != null) {
                confirmed.completeExceptionally(error);
            }
            listener.onEnd(error);
        }
    }

    /** Ends the subscription: returns once the server has sent its last event for it. */
    @Override
    public void close() {
        if (ended.isDone()) {
            return;
        }
        try {
            client.unsubscribe(id).join();
        } catch (RuntimeException e) {
            // The connection is gone or the subscription already ended; either way it is over.
        }
        client.forget(id);
        end(null);
    }
}
