package io.ringstore.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time over a window: this JVM's (all threads) and everyone else's, from the machine-wide busy
 * time in /proc/stat. The second says how much of the machine other processes took while a
 * configuration ran - on a shared board, the noise behind a number.
 */
final class CpuUsage {
    private static final Path PROC_STAT = Path.of("/proc/stat");
    private static final double USER_HZ = 100; // the ABI's fixed clock-tick unit for /proc/stat on Linux

    /**
     * One window's CPU.
     *
     * @param selfSeconds  CPU seconds this JVM used
     * @param otherSeconds CPU seconds other processes (and the kernel for them) used, -1 when unknown
     * @param wallSeconds  length of the window
     * @param cpus         CPUs available
     */
    record Sample(double selfSeconds, double otherSeconds, double wallSeconds, int cpus) {
        /** Share of the machine's CPU time used by others, 0..1, NaN when unknown. */
        double otherShare() {
            return otherSeconds < 0 ? Double.NaN : Math.max(0, otherSeconds) / (wallSeconds * cpus);
        }
    }

    private final long startSelfNanos;
    private final long startBusyTicks;
    private final long startWallNanos;

    private CpuUsage() {
        startWallNanos = System.nanoTime();
        startSelfNanos = selfCpuNanos();
        startBusyTicks = busyTicks();
    }

    static CpuUsage start() {
        return new CpuUsage();
    }

    Sample stop() {
        double self = (selfCpuNanos() - startSelfNanos) / 1e9;
        long busy = busyTicks();
        double other = busy < 0 || startBusyTicks < 0 ? -1 : (busy - startBusyTicks) / USER_HZ - self;
        return new Sample(self, other, (System.nanoTime() - startWallNanos) / 1e9,
                Runtime.getRuntime().availableProcessors());
    }

    private static long selfCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** Machine-wide busy ticks (everything but idle and iowait), or -1. */
    private static long busyTicks() {
        try {
            String[] f = Files.readAllLines(PROC_STAT).getFirst().trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) { // user nice system idle iowait irq softirq steal
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
