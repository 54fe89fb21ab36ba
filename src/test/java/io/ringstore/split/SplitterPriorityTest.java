package io.ringstore.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The splitter runs at its configured nice value (background work yields the CPU to appends and
 * reads), and the writer stays at the process's: read back from the kernel's own view of each
 * thread ({@code /proc/self/task/TID/stat}, field 19).
 */
class SplitterPriorityTest {
    @TempDir
    Path dir;

    @Test
    void theSplitterThreadRunsAtItsNiceValueAndTheWriterDoesNot() throws Exception {
        int processNice = niceOf("/proc/self/stat");
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir.resolve("default")).withSegmentSize(256 << 10))) {
            int expected = Math.min(19, processNice + SplitterOptions.DEFAULT_NICE);
            assertEquals(expected, taskNice("ringstore-split", expected), "the splitter at the default nice");
            assertEquals(processNice, taskNice("ringstore-write", processNice), "the writer keeps the process's priority");
        }
        try (RingStore store = RingStore.open(StoreConfig.defaults(dir.resolve("off")).withSegmentSize(256 << 10)
                .withSplitter(SplitterOptions.defaults().withNice(0)))) {
            Thread.sleep(500); // time for a wrongly applied priority to show
            assertEquals(processNice, taskNice("ringstore-split", processNice), "nice 0 leaves the splitter as it was");
        }
    }

    /**
     * The nice value of this process's thread whose name starts with {@code comm}, once it is
     * {@code expected} or after 10 s (the splitter sets its priority first thing, but may not
     * have run yet when the store is open).
     */
    private static int taskNice(String comm, int expected) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        Integer last = null;
        while (true) {
            last = null;
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : tasks.toList()) {
                    try {
                        io.ringstore.nativeio.ProcStat stat = io.ringstore.nativeio.ProcStat.read(t.resolve("stat"));
                        if (stat.comm().startsWith(comm)) {
                            last = stat.nice();
                        }
                    } catch (IOException gone) {
                        // a thread that ended while listed
                    }
                }
            }
            if ((last != null && last == expected) || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(20);
        }
        assertNotNull(last, "no thread named " + comm);
        return last;
    }

    private static int niceOf(String statFile) throws IOException {
        return io.ringstore.nativeio.ProcStat.read(Path.of(statFile)).nice();
    }
}
