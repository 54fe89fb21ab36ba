package io.ringstore.writer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamTableTest {

    @Test
    void behavesLikeAMapUnderRandomPutsAndRemoves() {
        Random random = new Random(42);
        StreamTable table = new StreamTable();
        Map<String, long[]> model = new HashMap<>();
        for (int i = 0; i < 200_000; i++) {
            String stream = "s-" + random.nextInt(5_000);
            if (random.nextInt(10) == 0) {
                table.remove(stream);
                model.remove(stream);
            } else {
                long v = random.nextInt(1_000_000);
                table.put(stream, v, v * 3);
                model.put(stream, new long[] {v, v * 3});
            }
        }
        assertEquals(model.size(), table.size());
        for (int s = 0; s < 5_000; s++) {
            String stream = "s-" + s;
            long[] expected = model.get(stream);
            assertEquals(expected == null ? -1 : expected[0], table.version(stream), stream);
            assertEquals(expected == null ? -1 : expected[1], table.lastPosition(stream), stream);
        }
        int[] seen = new int[1];
        table.snapshot().forEach((stream, version, position) -> {
            assertEquals(model.get(stream)[0], version);
            seen[0]++;
        });
        assertEquals(model.size(), seen[0]);
    }

    @Test
    void expectedVersionSemantics() {
        assertEquals(true, ExpectedVersion.ANY.matches(-1));
        assertEquals(true, ExpectedVersion.ANY.matches(7));
        assertEquals(true, ExpectedVersion.NO_STREAM.matches(-1));
        assertEquals(false, ExpectedVersion.NO_STREAM.matches(0));
        assertEquals(false, ExpectedVersion.STREAM_EXISTS.matches(-1));
        assertEquals(true, ExpectedVersion.STREAM_EXISTS.matches(0));
        assertEquals(true, ExpectedVersion.exactly(3).matches(3));
        assertEquals(false, ExpectedVersion.exactly(3).matches(4));
    }
}
