package io.ringstore.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, defect 5: a rebuild streams the stream from its damaged file and the log. Before
 * the fix it held the whole stream in memory, twice: an OutOfMemoryError in a 64 MiB heap for
 * a 72 MiB stream.
 */
class BigRebuildTest {
    @TempDir
    Path dir;

    @Test
    void aStreamLargerThanTheHeapIsRebuiltIn64MiB() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        int events = 1152;
        int eventBytes = 64 << 10; // 72 MiB of events, more than the whole heap
        Process p = new ProcessBuilder(List.of(java, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                BigRebuildChild.class.getName(), dir.toString(), Integer.toString(events), Integer.toString(eventBytes)))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child did not finish");
        assertEquals(0, p.exitValue(), out.lines().filter(l -> !l.startsWith("<6>")).toList().toString());
        String rebuilt = out.lines().filter(l -> l.startsWith("REBUILT ")).findFirst()
                .orElseThrow(() -> new AssertionError("no rebuild report in: " + out));
        assertEquals(Integer.toString(events - 1), rebuilt.split(" ")[1]);
        System.out.println("rebuilt in a 64 MiB heap: " + rebuilt);
    }
}
