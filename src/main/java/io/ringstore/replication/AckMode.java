package io.ringstore.replication;

/**
 * When the primary acknowledges an append, relative to where the record is held. One mode per
 * store (ringstore.conf {@code ack_mode}); every append answer names the mode that applied.
 */
public enum AckMode {
    /** Acknowledged by this board alone, as the writer's durability setting says (today's behaviour). */
    LOCAL,
    /**
     * Acknowledged once this board and every standby hold the record in memory, before either
     * has forced it: a power cut of one board loses nothing acknowledged; of both at once (one
     * power strip), it can.
     */
    REPLICA_MEMORY,
    /** Acknowledged once every standby has forced the record to its own disk. */
    REPLICA_DURABLE;

    /** The name used in ringstore.conf and in answers: {@code local}, {@code replica-memory}, {@code replica-durable}. */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public static AckMode parse(String s) {
        for (AckMode m : values()) {
            if (m.configName().equals(s.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("ack_mode must be local, replica-memory or replica-durable: " + s);
    }
}
