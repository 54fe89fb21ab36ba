package io.ringstore.error;

/**
 * A typed failure of a request. Unchecked, because it travels through futures and the wire
 * protocol rather than up a call stack; the code says what kind, the message what and where.
 */
public class RingStoreException extends RuntimeException {
    private final ErrorCode code;
    /** For INVALID_REQUEST: which kind (never null then); null for other codes. */
    private final InvalidDetail detail;

    public RingStoreException(ErrorCode code, String message) {
        this(code, message, (Throwable) null);
    }

    public RingStoreException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.detail = code == ErrorCode.INVALID_REQUEST ? InvalidDetail.INVALID_FIELD : null;
    }

    private RingStoreException(InvalidDetail detail, String message) {
        super(message);
        this.code = ErrorCode.INVALID_REQUEST;
        this.detail = detail;
    }

    public ErrorCode code() {
        return code;
    }

    /** For INVALID_REQUEST, which kind; null for other codes. */
    public InvalidDetail detail() {
        return detail;
    }

    /** INVALID_REQUEST for a missing, malformed or out-of-range field. */
    public static RingStoreException invalid(String message) {
        return new RingStoreException(InvalidDetail.INVALID_FIELD, message);
    }

    public static RingStoreException invalid(InvalidDetail detail, String message) {
        return new RingStoreException(detail, message);
    }
}
