package io.ringstore.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Heap and resident-set numbers of this JVM. Peak RSS is {@code VmHWM} from /proc/self/status;
 * writing 5 to /proc/self/clear_refs resets it, so each configuration can report its own peak
 * (when that write is refused, the peak is the whole process's so far). Note that pages of the
 * store's mapped segments that were touched count in RSS; the baseline's page cache does not.
 */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    /**
     * One configuration's memory.
     *
     * @param liveHeapBytes heap still reachable after the run (measured after a full GC, before close)
     * @param peakRssBytes  VmHWM at the end of the run, -1 when unknown
     * @param perRun        whether the RSS peak was reset before the run (else it is the process's)
     */
    record Sample(long liveHeapBytes, long peakRssBytes, boolean perRun) {}

    private ProcessMemory() {}

    /** Resets the kernel's peak-RSS mark; false when not allowed. */
    static boolean resetPeakRss() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** VmHWM in bytes, or -1. */
    static long peakRssBytes() {
        return statusKb(STATUS, "VmHWM:");
    }

    /** VmHWM of another process in bytes, or -1. */
    static long peakRssBytes(long pid) {
        return statusKb(Path.of("/proc", Long.toString(pid), "status"), "VmHWM:");
    }

    static long heapUsedBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long heapMaxBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    }

    /** Heap used after a full collection: what the run keeps alive. */
    static long liveHeapBytes() {
        System.gc();
        return heapUsedBytes();
    }

    private static long statusKb(Path status, String key) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Unknown is reported as -1.
        }
        return -1;
    }
}
