package io.ringstore.replication;

/** What a board does in a replicated pair (ringstore.conf {@code role}). */
public enum Role {
    /** Takes appends and ships its log to the standbys. */
    PRIMARY,
    /** Holds a copy of the primary's log; serves reads; refuses appends (NOT_PRIMARY). */
    STANDBY;

    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.configName().equals(s.strip())) {
                return r;
            }
        }
        throw new IllegalArgumentException("role must be primary or standby: " + s);
    }
}
