package io.ringstore.server;

/** What a connected peer may do. */
public enum Access {
    /** Nothing but ping. */
    NONE,
    /** Reads, subscriptions, status; no appends. */
    READ_ONLY,
    /** Everything. */
    READ_WRITE;

    public boolean canRead() {
        return this != NONE;
    }

    public boolean canWrite() {
        return this == READ_WRITE;
    }
}
