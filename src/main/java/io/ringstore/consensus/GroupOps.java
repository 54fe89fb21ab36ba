package io.ringstore.consensus;

/** Operations that are not {@link GroupChange}s: the marker each new leader commits, and the read a beat answers with. */
final class GroupOps {
    private GroupOps() {}

    /** Committed by every new leader first (Raft's no-op entry of its term); changes nothing. */
    enum NewTerm { INSTANCE }

    /** A query: the state as applied. Never in the log. */
    enum Read { INSTANCE }
}
