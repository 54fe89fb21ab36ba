package io.ringstore.split;

import io.ringstore.log.ForwardingStorageIo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The real storage layer with a card's latency added to each main-log force (the writer's) while
 * {@link #slow} is set: the writer sees forces as slow as a stalling SD card's, through the same
 * seam; the splitter's stream-file writes and syncs are left as fast as the disk.
 */
final class SlowCardIo extends ForwardingStorageIo {
    private volatile long forceDelayMillis;

    /** Every main-log force from now on takes at least {@code millis} more (0: as fast as the disk). */
    void slow(long millis) {
        forceDelayMillis = millis;
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        long delay = forceDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep(delay); // the card's latency, not a wait for another thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted during a slow force", e);
            }
        }
        super.force(mapping, offset, length);
    }
}
