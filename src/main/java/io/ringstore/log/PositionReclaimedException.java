package io.ringstore.log;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;

/** A read asked for a log position whose segment retention has already deleted. */
public final class PositionReclaimedException extends RingStoreException {
    private final long oldestPosition;

    public PositionReclaimedException(long position, long oldestPosition) {
        super(ErrorCode.POSITION_RECLAIMED, "position reclaimed by retention: position=" + position
                + " oldestAvailable=" + oldestPosition);
        this.oldestPosition = oldestPosition;
    }

    public long oldestPosition() {
        return oldestPosition;
    }
}
