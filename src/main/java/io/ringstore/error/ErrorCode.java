package io.ringstore.error;

/** The typed errors a client can receive; the wire protocol carries the same set. */
public enum ErrorCode {
    WRONG_EXPECTED_VERSION,
    STREAM_NOT_FOUND,
    STREAM_DELETED,
    INVALID_REQUEST,
    FRAME_TOO_LARGE,
    STORAGE_FULL,
    /** A $all read asked for a position that retention has deleted; the message names the oldest one left. */
    POSITION_RECLAIMED,
    STORAGE_ERROR,
    OVERLOADED,
    SHUTTING_DOWN,
    ACCESS_DENIED,
    /** A subscriber stopped reading for too long and was dropped (it can resume from its last position). */
    SUBSCRIBER_TOO_SLOW,
    /** An append reuses event ids of an earlier append without repeating it exactly (see ringstore.proto, NewEvent.event_id). */
    EVENT_ID_CONFLICT,
    /** A request id of 0, or the id of a request of the same connection still in flight. */
    REQUEST_ID_INVALID,
    /** A subscribe beyond the per-connection subscription limit. */
    TOO_MANY_SUBSCRIPTIONS,
    /**
     * A replica ack mode's standbys did not hold the append within the bounded wait. The append
     * IS in this board's log (written, not acknowledged): see the proto contract for what a
     * client should do.
     */
    REPLICA_UNAVAILABLE,
    /**
     * This board is a standby (or a primary fenced by a newer epoch): appends go to the primary,
     * which the message names when it is known. Reads are served here.
     */
    NOT_PRIMARY,
    /**
     * A board in a failover group (issue 16) could not show that the group still names it primary
     * in its epoch (its lease lapsed: the voters named are unreachable) within the bounded wait.
     * Like REPLICA_UNAVAILABLE, the append IS in this board's log, not acknowledged and not yet
     * readable.
     */
    NO_QUORUM
}
