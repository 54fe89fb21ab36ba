package io.ringstore.client;

/** Where a subscription starts. */
public sealed interface SubscribeFrom {
    /** Everything stored, then live. */
    record Start() implements SubscribeFrom {}

    /** Only what is committed after subscribing. */
    record End() implements SubscribeFrom {}

    /** Events after this position (resume with the last position received). */
    record AfterPosition(long position) implements SubscribeFrom {}

    /** Stream subscriptions: events from this version on. */
    record FromVersion(long version) implements SubscribeFrom {}

    SubscribeFrom START = new Start();
    SubscribeFrom END = new End();

    static SubscribeFrom afterPosition(long position) {
        return new AfterPosition(position);
    }

    static SubscribeFrom fromVersion(long version) {
        return new FromVersion(version);
    }
}
