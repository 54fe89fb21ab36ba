package io.ringstore.error;

/**
 * A typed failure of a request. Unchecked, because it travels through futures and the wire
 * protocol rather than up a call stack; the code says what kind, the message what and where.
 */
public class RingStoreException extends RuntimeException {
    private final ErrorCode code;

    public RingStoreException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public RingStoreException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static RingStoreException invalid(String message) {
        return new RingStoreException(ErrorCode.INVALID_REQUEST, message);
    }
}
