package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.cli.Args;
import org.junit.jupiter.api.Test;

/** The bench's --in-service option: a store in service, its log cold or warm, or a fresh store. */
class BenchOptionsTest {

    @Test
    void inServiceTakesColdOrWarm() throws Exception {
        assertNull(BenchOptions.parse(new String[] {"--quick"}).inService(), "fresh stores unless asked");
        assertEquals("cold", BenchOptions.parse(new String[] {"--in-service", "cold"}).inService());
        assertEquals("warm", BenchOptions.parse(new String[] {"--in-service", "warm"}).inService());
        Args.UsageException e = assertThrows(Args.UsageException.class,
                () -> BenchOptions.parse(new String[] {"--in-service", "hot"}));
        assertTrue(e.getMessage().contains("--in-service takes cold or warm"), e.getMessage());
    }

    @Test
    void batchingSinceASnapshotCountsOnlyWhatCameAfter() {
        BatchStats before = new BatchStats(10, 100, 10, 3_000, 5, 9, "s");
        BatchStats after = new BatchStats(30, 1_100, 20, 33_000, 7, 11, "s");
        BatchStats window = after.since(before);
        assertEquals(100.0, window.eventsPerForce(), 1e-9);
        assertEquals(50.0, window.eventsPerBatch(), 1e-9);
        assertEquals(7, window.forceP50Micros(), "percentiles are the target's latest");
    }

    @Test
    void onlyOneBoardStoreRowsAreAged() {
        java.nio.file.Path dir = java.nio.file.Path.of("/x");
        assertEquals(dir.resolve("log"), InService.logFolder("store", dir));
        assertEquals(dir.resolve("data/log"), InService.logFolder("socket", dir));
        for (String other : new String[] {"sqlite", "limit", "naive", "pair-local", "pair-durable"}) {
            assertNull(InService.logFolder(other, dir), other);
        }
    }
}
