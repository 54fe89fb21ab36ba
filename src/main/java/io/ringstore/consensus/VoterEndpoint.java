package io.ringstore.consensus;

import io.microraft.RaftEndpoint;

/** A voter as MicroRaft sees it: its board name, which is also its id (and, over TLS, its certificate's name). */
record VoterEndpoint(String name) implements RaftEndpoint {
    VoterEndpoint {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a voter needs a name");
        }
    }

    @Override
    public Object getId() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
