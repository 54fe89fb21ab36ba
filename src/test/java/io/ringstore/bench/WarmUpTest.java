package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The bench's warm-up goes on while the compiler threads of the process holding the data are
 * busy, and stops once they are quiet or the time limit passed. A thread named like HotSpot's
 * compiler threads counts as one (the kernel's thread name is what {@link ThreadCpu} groups by),
 * which is how these tests make a compiler "busy" without depending on the real one.
 */
class WarmUpTest {
    private static final long PID = ProcessHandle.current().pid();

    @Test
    void withoutATimeLimitItIsOneRoundOfTheMinimum() throws Exception {
        List<Integer> sizes = new ArrayList<>();
        WarmUp.Result r = WarmUp.run(PID, 300, 0, (round, size) -> {
            sizes.add(size);
            return size;
        });
        assertEquals(List.of(300), sizes);
        assertEquals(300, r.units());
        assertFalse(r.quiet());
        assertEquals("none", WarmUp.run(PID, 0, 10, (round, size) -> {
            throw new AssertionError("no warm-up asked for, no round run");
        }).describe("appends"));
    }

    @Test
    void aBusyCompilerKeepsItGoingToTheLimit() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread compiler = Thread.ofPlatform().name("C2 CompilerThread-test").start(() -> {
            long x = 0;
            while (!stop.get()) {
                x += x * 31 + 7;
            }
            if (x == 42) {
                System.out.println(x);
            }
        });
        try {
            WarmUp.Result r = WarmUp.run(PID, 10, 2.0, (round, size) -> {
                Thread.sleep(20);
                return size;
            });
            assertFalse(r.quiet(), r.describe("appends"));
            assertTrue(r.seconds() >= 2.0, r.describe("appends"));
            assertTrue(r.jitShare() >= 0.3, "a spinning 'compiler' is at most of a CPU: " + r.describe("appends"));
            assertTrue(r.describe("appends").contains("compiler still busy"), r.describe("appends"));
        } finally {
            stop.set(true);
            compiler.join();
        }
    }

    @Test
    void aQuietCompilerEndsItBeforeTheLimit() throws Exception {
        // The real compiler of this JVM settles while the rounds only sleep; 60 s is far beyond that.
        WarmUp.Result r = WarmUp.run(PID, 10, 60, (round, size) -> {
            Thread.sleep(50);
            return size;
        });
        assertTrue(r.quiet(), r.describe("reads"));
        assertTrue(r.seconds() >= 1.0 && r.seconds() < 60, r.describe("reads"));
        assertTrue(r.jitShare() < WarmUp.QUIET_SHARE, r.describe("reads"));
        assertTrue(r.units() >= 10);
    }
}
