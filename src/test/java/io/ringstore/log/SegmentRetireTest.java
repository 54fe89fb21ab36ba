package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A segment retired (reclaimed) while readers are inside it is unmapped by the last one out, so
 * no reader has the mapping closed under it. Closing a shared arena under a reading thread makes
 * the JDK set that thread's interrupt flag (measured with JDK 25: 26 of 2,000 racing closes),
 * and an interrupted thread's next FileChannel call closes the channel it uses.
 */
class SegmentRetireTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    private Segment open() throws Exception {
        Path file = dir.resolve(Segment.fileName(0));
        if (!Files.exists(file)) {
            Files.write(file, new byte[SIZE]);
        }
        return Segment.open(new FileStorageIo(), file, SIZE);
    }

    @Test
    void aReaderInsideKeepsTheMappingUntilItLeaves() throws Exception {
        Segment seg = open();
        seg.enter();
        seg.close(); // retired with a reader inside: still mapped
        assertEquals(0L, seg.mapping().get(ValueLayout.JAVA_LONG, 8), "readable until the reader leaves");
        assertThrows(IllegalStateException.class, seg::enter, "a retired segment lets no new reader in");
        seg.exit(); // the last one out unmaps it
        assertThrows(IllegalStateException.class, () -> seg.mapping().get(ValueLayout.JAVA_LONG, 8));
        seg.close(); // idempotent
    }

    @Test
    void retiringWithNoReaderUnmapsAtOnce() throws Exception {
        Segment seg = open();
        seg.enter();
        seg.exit();
        seg.close();
        assertThrows(IllegalStateException.class, () -> seg.mapping().get(ValueLayout.JAVA_LONG, 8));
    }

    @Test
    void readersRacingRetirementAreNeverInterrupted() throws Exception {
        int rounds = 1_000;
        AtomicInteger interrupted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        for (int round = 0; round < rounds; round++) {
            Segment seg = open();
            AtomicBoolean started = new AtomicBoolean();
            Thread reader = Thread.ofPlatform().start(() -> {
                long sum = 0;
                try {
                    for (int i = 0; i < 100_000; i++) {
                        seg.enter();
                        started.set(true);
                        try {
                            sum += seg.mapping().get(ValueLayout.JAVA_LONG, (i * 8L) % (SIZE - 8));
                        } finally {
                            seg.exit();
                        }
                    }
                } catch (IllegalStateException e) {
                    refused.incrementAndGet(); // retired: what the log turns into "position reclaimed"
                }
                if (Thread.currentThread().isInterrupted() || sum < 0) {
                    interrupted.incrementAndGet();
                }
            });
            while (!started.get()) {
                Thread.onSpinWait();
            }
            seg.close();
            reader.join();
        }
        assertEquals(0, interrupted.get(), "readers left interrupted by a retirement");
        assertTrue(refused.get() > 0, "the retirements raced the readers (" + refused.get() + " of " + rounds + ")");
    }
}
