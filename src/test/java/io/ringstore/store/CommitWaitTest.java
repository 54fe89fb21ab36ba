package io.ringstore.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live subscription waits in {@link RingStore#awaitCommittedBeyond}; stopping it wakes that
 * wait ({@link RingStore#wakeCommitWaiters}), so an unsubscribe is answered at once instead of
 * after the wait (up to 200 ms per subscription before).
 */
class CommitWaitTest {
    @TempDir
    Path dir;

    @Test
    void aWakeEndsAWaitThatNothingCommittedWouldEnd() throws Exception {
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir))) {
            long at = store.committedPosition();
            AtomicLong returned = new AtomicLong(-1);
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    returned.set(store.awaitCommittedBeyond(at, 120_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Until woken it waits (nothing is appended): give it time to be inside the wait.
            waiter.join(300);
            assertTrue(waiter.isAlive(), "waits while nothing is committed");
            store.wakeCommitWaiters();
            waiter.join(30_000); // without the wake: two minutes
            assertFalse(waiter.isAlive(), "the wake ended the wait");
            assertEquals(at, returned.get(), "and it returns the committed position, unchanged");
        }
    }
}
