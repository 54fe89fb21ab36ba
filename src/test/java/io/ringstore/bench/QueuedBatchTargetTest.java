package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The comparison targets count a batch before they acknowledge it: the bench reads a target's
 * count when the warm-up's last append is acknowledged, and takes what it reads as the start of
 * the measured window. Counted after, the warm-up's last batch could land in the window (a
 * smoke run counted 301 events for a window of 300). No fault injected; what could fail: an
 * acknowledgement seen before its batch is counted.
 */
class QueuedBatchTargetTest {

    /** Writes nothing; each batch is "durable" at once. */
    private static final class NullTarget extends QueuedBatchTarget {
        NullTarget() {
            super("null", 64, 8);
            start();
        }

        @Override
        List<Request> writeBatch(List<Request> batch) {
            return batch;
        }

        @Override
        long frameBytesPerEvent() {
            return 0;
        }

        @Override
        void closeResources() {}
    }

    @Test
    void anAcknowledgedAppendIsAlreadyCounted() throws Exception {
        NullTarget target = new NullTarget();
        try {
            List<CompletableFuture<Long>> countsSeenAtAck = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                // Runs on the writer thread as the append is acknowledged (or here, if it was already).
                countsSeenAtAck.add(target.append("s", new byte[1]).thenApply(x -> target.stats().events()));
                if (i % 10 == 9) {
                    countsSeenAtAck.getLast().join();
                }
            }
            for (int i = 0; i < countsSeenAtAck.size(); i++) {
                long seen = countsSeenAtAck.get(i).join();
                if (seen < i + 1) {
                    throw new AssertionError("append " + (i + 1) + " was acknowledged while the target counted " + seen);
                }
            }
            assertEquals(200, target.stats().events());
        } finally {
            target.close();
        }
    }
}
