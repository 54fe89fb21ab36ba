package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's CPU-by-thread figures: a thread's CPU lands in its group, and only in it. */
class ThreadCpuTest {
    @Test
    void aBusyThreadsCpuIsCountedInItsGroup() throws Exception {
        ThreadCpu window = ThreadCpu.start(ProcessHandle.current().pid());
        java.util.concurrent.CountDownLatch spun = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch measured = new java.util.concurrent.CountDownLatch(1);
        Thread busy = Thread.ofPlatform().name("bench-producer-test").start(() -> {
            long until = System.nanoTime() + 400_000_000L;
            long x = 0;
            while (System.nanoTime() < until) {
                x += x * 31 + 7;
            }
            if (x == 42) {
                System.out.println(x); // keeps the loop from being optimised away
            }
            spun.countDown();
            try {
                measured.await(); // alive when the window closes: an ended thread is not counted
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        spun.await();
        Map<String, double[]> groups = window.stop();
        measured.countDown();
        busy.join();
        double[] producers = groups.get("producers");
        assertTrue(producers != null && producers[0] + producers[1] >= 0.25,
                "about 0.4 s of spinning counted for the producers: " + (producers == null ? "none" : producers[0] + producers[1]));
        double[] writer = groups.get("writer");
        assertTrue(writer == null || writer[0] + writer[1] < 0.05, "nothing counted for a writer that does not exist");
        String line = ThreadCpu.perEvent(groups, 1_000);
        assertTrue(line.startsWith("producers "), line);
        assertTrue(ThreadCpu.perEvent(groups, 1_000, 1_000).contains("ended threads"),
                "a process total above the threads' sum shows as ended threads");
    }

    @Test
    void threadsAreGroupedByTheirKernelNames() {
        assertEquals("writer", ThreadCpu.group("ringstore-write"));
        assertEquals("connections", ThreadCpu.group("ringstore-poller".substring(0, 15)));
        assertEquals("connections", ThreadCpu.group("ringstore-conn-"));
        assertEquals("splitter", ThreadCpu.group("ringstore-split"));
        assertEquals("client", ThreadCpu.group("ringstore-clien"));
        assertEquals("jit", ThreadCpu.group("C2 CompilerThre"));
        assertEquals("gc", ThreadCpu.group("GC Thread#0"));
        assertEquals("other", ThreadCpu.group("ringstore-leds"));
    }
}
