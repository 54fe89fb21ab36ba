package io.ringstore.error;

/**
 * NOT_PRIMARY with where appends go: the board known as primary, its address between boards
 * (its group or replication port: a board's client socket is reachable only on that board) and
 * the epoch it is primary in. Each is null (epoch -1) when this board does not know it.
 */
public final class NotPrimaryException extends RingStoreException {
    private final String primaryBoard;
    private final String primaryAddress;
    private final long primaryEpoch;

    public NotPrimaryException(String message, String primaryBoard, String primaryAddress, long primaryEpoch) {
        super(ErrorCode.NOT_PRIMARY, message);
        this.primaryBoard = primaryBoard;
        this.primaryAddress = primaryAddress;
        this.primaryEpoch = primaryEpoch;
    }

    /** The primary's board name, or null when unknown. */
    public String primaryBoard() {
        return primaryBoard;
    }

    /** The primary's group or replication address (host:port), or null when unknown; not a client socket. */
    public String primaryAddress() {
        return primaryAddress;
    }

    /** The epoch the primary is primary in, or -1 when unknown. */
    public long primaryEpoch() {
        return primaryEpoch;
    }
}
