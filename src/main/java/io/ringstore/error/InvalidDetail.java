package io.ringstore.error;

/**
 * Which kind of {@link ErrorCode#INVALID_REQUEST} a refusal is, so that a program can tell them
 * apart; the wire carries it as {@code Error.invalid_detail} (see ringstore.proto).
 */
public enum InvalidDetail {
    /** A field is missing, out of range or malformed; the message names it. */
    INVALID_FIELD,
    /** The request has no operation. */
    EMPTY_REQUEST,
    /** An unsubscribe names no live subscription of its connection. */
    NO_SUCH_SUBSCRIPTION,
    /** A position that is not a stored event's. */
    NOT_AN_EVENT_POSITION,
    /** A protobuf frame that is not a Request (connection-level). */
    MALFORMED_FRAME,
    /** A JSON line that is not a request. */
    MALFORMED_LINE
}
