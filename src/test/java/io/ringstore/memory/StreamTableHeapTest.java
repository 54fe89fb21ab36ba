package io.ringstore.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bound: 100,000 streams fit comfortably in a 64 MiB heap with everything else. */
class StreamTableHeapTest {
    @TempDir
    Path dir;

    @Test
    void hundredThousandStreamsFitA64MiBHeap() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), SmallHeapChild.class.getName(),
                dir.toString(), "100000"))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not finish");
        assertEquals(0, p.exitValue(), out);
        long used = out.lines().filter(l -> l.startsWith("HEAP_USED ")).mapToLong(l -> Long.parseLong(l.substring(10)))
                .findFirst().orElseThrow(() -> new AssertionError("no heap report in: " + out));
        System.out.println("heap used with 100,000 streams after reopen: " + used / 1024 + " KiB");
        long lagAtClose = out.lines().filter(l -> l.startsWith("LAG_AT_CLOSE ")).mapToLong(l -> Long.parseLong(l.substring(13)))
                .findFirst().orElseThrow(() -> new AssertionError("no lag report in: " + out));
        if (lagAtClose == 0) {
            assertTrue(used < 32L << 20, "more than half the 64 MiB heap in use: " + used);
        } else {
            // A slow disk left streams unsplit at close (100,000 file creations): the reopened
            // store holds them in its tail index again, as below.
            System.out.println("splitter had " + lagAtClose + " events left at close");
            assertTrue(used < 48L << 20, "tail index and table leave under 16 MiB of the 64 MiB heap: " + used);
        }
        // Before the splitter moved them, every stream also has an entry in the tail index.
        long unsplit = out.lines().filter(l -> l.startsWith("HEAP_USED_UNSPLIT "))
                .mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                .findFirst().orElseThrow(() -> new AssertionError("no unsplit heap report in: " + out));
        System.out.println("heap used with 100,000 streams all unsplit: " + unsplit / 1024 + " KiB");
        assertTrue(unsplit < 48L << 20, "tail index of 100,000 streams leaves under 16 MiB of the 64 MiB heap: " + unsplit);
    }
}
