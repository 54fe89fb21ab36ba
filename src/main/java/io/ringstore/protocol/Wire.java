package io.ringstore.protocol;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.InvalidDetail;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.ExpectedState;
import io.ringstore.writer.Durability;
import io.ringstore.writer.ExpectedVersion;

/** Conversions between the store's Java types and the messages of {@code ringstore.proto}. */
public final class Wire {
    private Wire() {}

    public static Event event(LogRecord r) {
        return Event.newBuilder()
                .setStream(r.getStream())
                .setVersion(r.getVersion())
                .setPosition(r.getPosition())
                .setEventId(r.getEventId())
                .setType(r.getType())
                .setData(r.getData())
                .setMetadata(r.getMetadata())
                .setTimestampMicros(r.getTimestampMicros())
                .build();
    }

    public static io.ringstore.protocol.v1.ErrorCode code(ErrorCode code) {
        return switch (code) {
            case WRONG_EXPECTED_VERSION -> io.ringstore.protocol.v1.ErrorCode.WRONG_EXPECTED_VERSION;
            case STREAM_NOT_FOUND -> io.ringstore.protocol.v1.ErrorCode.STREAM_NOT_FOUND;
            case STREAM_DELETED -> io.ringstore.protocol.v1.ErrorCode.STREAM_DELETED;
            case INVALID_REQUEST -> io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST;
            case FRAME_TOO_LARGE -> io.ringstore.protocol.v1.ErrorCode.FRAME_TOO_LARGE;
            case STORAGE_FULL -> io.ringstore.protocol.v1.ErrorCode.STORAGE_FULL;
            case STORAGE_ERROR -> io.ringstore.protocol.v1.ErrorCode.STORAGE_ERROR;
            case OVERLOADED -> io.ringstore.protocol.v1.ErrorCode.OVERLOADED;
            case SHUTTING_DOWN -> io.ringstore.protocol.v1.ErrorCode.SHUTTING_DOWN;
            case ACCESS_DENIED -> io.ringstore.protocol.v1.ErrorCode.ACCESS_DENIED;
            case SUBSCRIBER_TOO_SLOW -> io.ringstore.protocol.v1.ErrorCode.SUBSCRIBER_TOO_SLOW;
            case POSITION_RECLAIMED -> io.ringstore.protocol.v1.ErrorCode.POSITION_RECLAIMED;
            case NOT_PRIMARY -> io.ringstore.protocol.v1.ErrorCode.NOT_PRIMARY;
            case EVENT_ID_CONFLICT -> io.ringstore.protocol.v1.ErrorCode.EVENT_ID_CONFLICT;
            case REQUEST_ID_INVALID -> io.ringstore.protocol.v1.ErrorCode.REQUEST_ID_INVALID;
            case TOO_MANY_SUBSCRIPTIONS -> io.ringstore.protocol.v1.ErrorCode.TOO_MANY_SUBSCRIPTIONS;
            case REPLICA_UNAVAILABLE -> io.ringstore.protocol.v1.ErrorCode.REPLICA_UNAVAILABLE;
            case NO_QUORUM -> io.ringstore.protocol.v1.ErrorCode.NO_QUORUM;
        };
    }

    /** The Java code for a wire code; an unknown (newer) code becomes STORAGE_ERROR. */
    public static ErrorCode code(io.ringstore.protocol.v1.ErrorCode code) {
        return switch (code) {
            case WRONG_EXPECTED_VERSION -> ErrorCode.WRONG_EXPECTED_VERSION;
            case STREAM_NOT_FOUND -> ErrorCode.STREAM_NOT_FOUND;
            case STREAM_DELETED -> ErrorCode.STREAM_DELETED;
            case INVALID_REQUEST -> ErrorCode.INVALID_REQUEST;
            case FRAME_TOO_LARGE -> ErrorCode.FRAME_TOO_LARGE;
            case STORAGE_FULL -> ErrorCode.STORAGE_FULL;
            case OVERLOADED -> ErrorCode.OVERLOADED;
            case SHUTTING_DOWN -> ErrorCode.SHUTTING_DOWN;
            case ACCESS_DENIED -> ErrorCode.ACCESS_DENIED;
            case SUBSCRIBER_TOO_SLOW -> ErrorCode.SUBSCRIBER_TOO_SLOW;
            case POSITION_RECLAIMED -> ErrorCode.POSITION_RECLAIMED;
            case NOT_PRIMARY -> ErrorCode.NOT_PRIMARY;
            case EVENT_ID_CONFLICT -> ErrorCode.EVENT_ID_CONFLICT;
            case REQUEST_ID_INVALID -> ErrorCode.REQUEST_ID_INVALID;
            case TOO_MANY_SUBSCRIPTIONS -> ErrorCode.TOO_MANY_SUBSCRIPTIONS;
            case REPLICA_UNAVAILABLE -> ErrorCode.REPLICA_UNAVAILABLE;
            case NO_QUORUM -> ErrorCode.NO_QUORUM;
            case STORAGE_ERROR, ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> ErrorCode.STORAGE_ERROR;
        };
    }

    public static io.ringstore.protocol.v1.Error error(ErrorCode code, String message) {
        io.ringstore.protocol.v1.Error.Builder b = io.ringstore.protocol.v1.Error.newBuilder().setCode(code(code)).setMessage(message);
        if (code == ErrorCode.INVALID_REQUEST) {
            b.setInvalidDetail(io.ringstore.protocol.v1.InvalidRequestDetail.INVALID_FIELD);
        }
        return b.build();
    }

    public static io.ringstore.protocol.v1.Error error(InvalidDetail detail, String message) {
        return io.ringstore.protocol.v1.Error.newBuilder().setCode(io.ringstore.protocol.v1.ErrorCode.INVALID_REQUEST)
                .setMessage(message).setInvalidDetail(detail(detail)).build();
    }

    public static io.ringstore.protocol.v1.InvalidRequestDetail detail(InvalidDetail d) {
        return switch (d) {
            case INVALID_FIELD -> io.ringstore.protocol.v1.InvalidRequestDetail.INVALID_FIELD;
            case EMPTY_REQUEST -> io.ringstore.protocol.v1.InvalidRequestDetail.EMPTY_REQUEST;
            case NO_SUCH_SUBSCRIPTION -> io.ringstore.protocol.v1.InvalidRequestDetail.NO_SUCH_SUBSCRIPTION;
            case NOT_AN_EVENT_POSITION -> io.ringstore.protocol.v1.InvalidRequestDetail.NOT_AN_EVENT_POSITION;
            case MALFORMED_FRAME -> io.ringstore.protocol.v1.InvalidRequestDetail.MALFORMED_FRAME;
            case MALFORMED_LINE -> io.ringstore.protocol.v1.InvalidRequestDetail.MALFORMED_LINE;
        };
    }

    public static io.ringstore.protocol.v1.Error error(RingStoreException e) {
        io.ringstore.protocol.v1.Error.Builder b = io.ringstore.protocol.v1.Error.newBuilder()
                .setCode(code(e.code()))
                .setMessage(String.valueOf(e.getMessage()));
        if (e.detail() != null) {
            b.setInvalidDetail(detail(e.detail()));
        }
        if (e instanceof WrongExpectedVersionException w) {
            b.setCurrentVersion(w.currentVersion());
        }
        if (e instanceof io.ringstore.error.NotPrimaryException n) {
            notPrimary(b, n);
        }
        return b.build();
    }

    /** NOT_PRIMARY's fields: where appends go, as far as this board knows. */
    private static void notPrimary(io.ringstore.protocol.v1.Error.Builder b, io.ringstore.error.NotPrimaryException n) {
        if (n.primaryBoard() != null) {
            b.setPrimaryBoard(n.primaryBoard());
        }
        if (n.primaryAddress() != null) {
            b.setPrimaryAddress(n.primaryAddress());
        }
        if (n.primaryEpoch() >= 0) {
            b.setPrimaryEpoch(n.primaryEpoch());
        }
    }

    /** The typed exception of a wire NOT_PRIMARY (absent fields: null, epoch -1). */
    public static io.ringstore.error.NotPrimaryException notPrimary(io.ringstore.protocol.v1.Error e) {
        return new io.ringstore.error.NotPrimaryException(e.getMessage(), e.hasPrimaryBoard() ? e.getPrimaryBoard() : null,
                e.hasPrimaryAddress() ? e.getPrimaryAddress() : null, e.hasPrimaryEpoch() ? e.getPrimaryEpoch() : -1);
    }

    public static io.ringstore.protocol.v1.Durability durability(Durability d) {
        return switch (d) {
            case SYNC -> io.ringstore.protocol.v1.Durability.DURABILITY_SYNC;
            case PERIODIC -> io.ringstore.protocol.v1.Durability.DURABILITY_PERIODIC;
            case NONE -> io.ringstore.protocol.v1.Durability.DURABILITY_NONE;
        };
    }

    public static Durability durability(io.ringstore.protocol.v1.Durability d) {
        return switch (d) {
            case DURABILITY_PERIODIC -> Durability.PERIODIC;
            case DURABILITY_NONE -> Durability.NONE;
            default -> Durability.SYNC;
        };
    }

    public static io.ringstore.protocol.v1.AckMode ackMode(io.ringstore.replication.AckMode m) {
        return switch (m) {
            case LOCAL -> io.ringstore.protocol.v1.AckMode.ACK_MODE_LOCAL;
            case REPLICA_MEMORY -> io.ringstore.protocol.v1.AckMode.ACK_MODE_REPLICA_MEMORY;
            case REPLICA_DURABLE -> io.ringstore.protocol.v1.AckMode.ACK_MODE_REPLICA_DURABLE;
        };
    }

    /** An older server that does not say (unspecified) acknowledged locally. */
    public static io.ringstore.replication.AckMode ackMode(io.ringstore.protocol.v1.AckMode m) {
        return switch (m) {
            case ACK_MODE_REPLICA_MEMORY -> io.ringstore.replication.AckMode.REPLICA_MEMORY;
            case ACK_MODE_REPLICA_DURABLE -> io.ringstore.replication.AckMode.REPLICA_DURABLE;
            default -> io.ringstore.replication.AckMode.LOCAL;
        };
    }

    /** Reads the expected version of a wire append. */
    public static ExpectedVersion expected(io.ringstore.protocol.v1.AppendRequest a) {
        return switch (a.getExpectedCase()) {
            case EXPECTED_VERSION -> exactly(a.getExpectedVersion());
            case EXPECTED_STATE -> state(a.getExpectedState(), a.getExpectedStateValue());
            case EXPECTED_NOT_SET -> ExpectedVersion.ANY;
        };
    }

    /** A delete's expected version (the same oneof as an append's). */
    public static ExpectedVersion expected(io.ringstore.protocol.v1.DeleteStreamRequest d) {
        return switch (d.getExpectedCase()) {
            case EXPECTED_VERSION -> exactly(d.getExpectedVersion());
            case EXPECTED_STATE -> state(d.getExpectedState(), d.getExpectedStateValue());
            case EXPECTED_NOT_SET -> ExpectedVersion.ANY;
        };
    }

    private static ExpectedVersion exactly(long version) {
        if (version < 0 || version > Long.MAX_VALUE / 2) {
            throw RingStoreException.invalid("expected_version out of range: " + Long.toUnsignedString(version));
        }
        return ExpectedVersion.exactly(version);
    }

    private static ExpectedVersion state(ExpectedState state, int value) {
        return switch (state) {
            case EXPECT_ANY -> ExpectedVersion.ANY;
            case EXPECT_NO_STREAM -> ExpectedVersion.NO_STREAM;
            case EXPECT_STREAM_EXISTS -> ExpectedVersion.STREAM_EXISTS;
            case UNRECOGNIZED -> throw RingStoreException.invalid("unknown expected_state: " + value);
        };
    }

    /** Sets the expected version of a wire delete. */
    public static void expected(io.ringstore.protocol.v1.DeleteStreamRequest.Builder b, ExpectedVersion e) {
        setExpected(e, b::setExpectedState, b::setExpectedVersion);
    }

    /** Sets the expected version of a wire append. */
    public static void expected(io.ringstore.protocol.v1.AppendRequest.Builder b, ExpectedVersion e) {
        setExpected(e, b::setExpectedState, b::setExpectedVersion);
    }

    /** The one mapping to the wire's {@code expected} oneof (appends and deletes share its shape). */
    private static void setExpected(ExpectedVersion e, java.util.function.Consumer<ExpectedState> state,
                                    java.util.function.LongConsumer version) {
        if (e.equals(ExpectedVersion.ANY)) {
            state.accept(ExpectedState.EXPECT_ANY);
        } else if (e.equals(ExpectedVersion.NO_STREAM)) {
            state.accept(ExpectedState.EXPECT_NO_STREAM);
        } else if (e.equals(ExpectedVersion.STREAM_EXISTS)) {
            state.accept(ExpectedState.EXPECT_STREAM_EXISTS);
        } else {
            version.accept(e.value());
        }
    }

    /** Limits from the wire (absent fields: no such limit); bad values are INVALID_REQUEST. */
    public static io.ringstore.retention.StreamLimits limits(io.ringstore.protocol.v1.StreamLimits l) {
        return new io.ringstore.retention.StreamLimits(
                l.hasMaxCount() ? unsigned("max_count", l.getMaxCount()) : io.ringstore.retention.StreamLimits.UNSET,
                l.hasMaxAgeSeconds() ? unsigned("max_age_seconds", l.getMaxAgeSeconds()) : io.ringstore.retention.StreamLimits.UNSET,
                l.hasTruncateBefore() ? unsigned("truncate_before", l.getTruncateBefore()) : io.ringstore.retention.StreamLimits.UNSET,
                false);
    }

    private static long unsigned(String field, long v) {
        if (v < 0) {
            throw io.ringstore.error.RingStoreException.invalid(field + " out of range: " + Long.toUnsignedString(v));
        }
        return v;
    }

    /** Limits for the wire (unset fields absent). */
    public static io.ringstore.protocol.v1.StreamLimits limits(io.ringstore.retention.StreamLimits l) {
        io.ringstore.protocol.v1.StreamLimits.Builder b = io.ringstore.protocol.v1.StreamLimits.newBuilder();
        if (l.maxCount() != io.ringstore.retention.StreamLimits.UNSET) {
            b.setMaxCount(l.maxCount());
        }
        if (l.maxAgeSeconds() != io.ringstore.retention.StreamLimits.UNSET) {
            b.setMaxAgeSeconds(l.maxAgeSeconds());
        }
        if (l.truncateBefore() != io.ringstore.retention.StreamLimits.UNSET) {
            b.setTruncateBefore(l.truncateBefore());
        }
        return b.build();
    }
}
