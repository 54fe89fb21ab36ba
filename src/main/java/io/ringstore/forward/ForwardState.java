package io.ringstore.forward;

import java.util.Locale;

/** What the forwarder is doing; the journal gets one line per change. */
public enum ForwardState {
    /** Connecting to NATS and checking the JetStream stream. */
    CONNECTING,
    /** Connected: publishing, or caught up and waiting for new events. */
    FORWARDING,
    /** The link failed (NATS down, refused, no such stream): waiting before the next try. */
    BACKING_OFF,
    /** It cannot go on without a person (a damaged checkpoint); the daemon serves on. */
    FAILED,
    STOPPED;

    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
