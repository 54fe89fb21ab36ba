package io.ringstore.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command lines for child JVMs of this one (the daemon under test, and the whole bench again
 * under {@code --pi}): the same java binary and class path, native access granted, and under the
 * Pi profile the constraints of a small board: one CPU ({@code taskset}, and
 * {@code -XX:ActiveProcessorCount=1} so the JVM sizes its GC and compiler threads for one) and a
 * 64 MiB heap.
 */
final class JavaChild {
    /** The Pi profile's heap. */
    static final String PI_HEAP = "-Xmx64m";
    /** The CPU a Pi-profile child is pinned to. */
    static final String PI_CPU = "0";
    private static final Path TASKSET = Path.of("/usr/bin/taskset");

    private JavaChild() {}

    /**
     * {@code [taskset -c 0] java <jvmOptions> [Pi options] --enable-native-access=ALL-UNNAMED -cp
     * <this class path> <mainClass> <args>}. Under the Pi profile the Pi heap replaces any
     * {@code -Xmx} in {@code jvmOptions}.
     */
    static List<String> command(boolean pi, List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        if (pi && tasksetAvailable()) {
            cmd.addAll(List.of(TASKSET.toString(), "-c", PI_CPU));
        }
        cmd.add(javaBinary());
        for (String o : jvmOptions) {
            if (!(pi && o.startsWith("-Xmx"))) {
                cmd.add(o);
            }
        }
        if (pi) {
            cmd.addAll(List.of("-XX:ActiveProcessorCount=1", PI_HEAP));
        }
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                mainClass));
        cmd.addAll(args);
        return cmd;
    }

    static boolean tasksetAvailable() {
        return Files.isExecutable(TASKSET);
    }

    /** What the Pi profile does here, for the report. */
    static String piDescription() {
        return (tasksetAvailable() ? "taskset -c " + PI_CPU : "no taskset: CPU not pinned")
                + ", -XX:ActiveProcessorCount=1, " + PI_HEAP;
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    }
}
