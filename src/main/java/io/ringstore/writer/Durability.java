package io.ringstore.writer;

/** When an append is acknowledged relative to its force; every ack says which mode applied. */
public enum Durability {
    /** Acknowledged after the batch is forced: nothing acknowledged is lost in a crash. The default. */
    SYNC,
    /** Acknowledged once written to the mapping; forced every configured interval. A crash loses up to one interval. */
    PERIODIC,
    /** Acknowledged once written; never forced by the writer (the kernel writes back when it likes; a clean stop forces). */
    NONE
}
