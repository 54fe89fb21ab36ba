package io.ringstore.client;

import io.ringstore.error.RingStoreException;

/**
 * Receives a subscription's events, on the client's reading thread and in log order. A listener
 * that blocks holds up every response of its connection (and, if it blocks long enough, the
 * server drops the subscription as too slow): hand work to another thread if it is slow.
 */
public interface SubscriptionListener {
    void onEvent(RecordedEvent event);

    /** The server started the subscription; {@code committedPosition} was the log's end then. */
    default void onConfirmed(long committedPosition) {}

    /** Everything stored has been delivered; what follows is live. */
    default void onCaughtUp(long position) {}

    /**
     * The subscription ended: {@code error} is null after {@link Subscription#close}, else why
     * (SUBSCRIBER_TOO_SLOW, SHUTTING_DOWN, INVALID_REQUEST, or {@link ConnectionLostException}).
     * Resume with {@link SubscribeFrom#afterPosition} of {@link Subscription#lastPosition()}.
     */
    default void onEnd(RuntimeException error) {}
}
