package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The warm-up is shaped like the measured work: long streams for reads, and as many streams as the run. */
class WorkloadTest {

    @Test
    void theWarmUpSendsHalfToLongStreamsAndSpreadsTheRestLikeTheRun() {
        Workload measured = Workload.generate(200_000, 100_000, 256, 42);
        Workload warm = Workload.warmUp("warm-", 40_000, 100, 10_000, 256, 47);
        assertEquals(40_000, warm.events());
        assertEquals(10_100, warm.streams());
        int toLong = 0;
        Set<String> wide = new HashSet<>();
        for (int i = 0; i < warm.events(); i++) {
            String s = warm.streamOf(i);
            if (s.startsWith("warm-wide-")) {
                wide.add(s);
            } else {
                assertTrue(s.matches("warm-\\d\\d"), s);
                toLong++;
            }
        }
        assertEquals(20_000, toLong, "every other event to the long streams");
        // 20,000 events over 10,000 streams: most are a stream's first event, which is the point.
        assertTrue(wide.size() > 8_000, "wide streams used: " + wide.size());
        Set<String> names = new HashSet<>();
        for (int s = 0; s < measured.streams(); s++) {
            names.add(measured.streamName(s));
        }
        for (int s = 0; s < warm.streams(); s++) {
            assertTrue(!names.contains(warm.streamName(s)), "the warm-up never touches a measured stream");
        }
        // The long streams keep the names the read warm-up reads whole.
        assertEquals(Set.of(Workload.names("warm-", 100)), collect(warm, 0, 100));
    }

    private static Set<String> collect(Workload w, int from, int to) {
        Set<String> out = new HashSet<>();
        for (int s = from; s < to; s++) {
            out.add(w.streamName(s));
        }
        return out;
    }
}
