package io.ringstore.bench;

import io.ringstore.nativeio.ProcStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where a run's CPU went, by kind of thread: each thread's user and kernel ticks from
 * {@code /proc/PID/task/TID/stat}, taken before and after a window, summed by what the thread
 * does (the writer, the splitter, the connections, the client, the producers, GC, JIT). The
 * kernel names a thread by the first 15 characters of its Java name, which is what the groups
 * match. A thread that ended inside the window is missing from the sum (the process total,
 * measured separately, still has it).
 */
final class ThreadCpu {
    /** The group of the JIT compiler threads. */
    static final String JIT_GROUP = "jit";
    private static final double USER_HZ = 100; // the ABI's fixed clock-tick unit for /proc stat files

    /** One thread's ticks at a moment. */
    private record Ticks(String group, long user, long system) {}

    private final Map<String, Ticks> start;
    private final long pid;

    private ThreadCpu(long pid) {
        this.pid = pid;
        this.start = read(pid);
    }

    /** Starts a window over process {@code pid}'s threads. */
    static ThreadCpu start(long pid) {
        return new ThreadCpu(pid);
    }

    /**
     * CPU seconds by group since {@link #start}, largest first: each value is {user, system}.
     * Empty when the process's threads cannot be read.
     */
    Map<String, double[]> stop() {
        Map<String, Ticks> end = read(pid);
        Map<String, double[]> byGroup = new HashMap<>();
        for (Map.Entry<String, Ticks> e : end.entrySet()) {
            Ticks now = e.getValue();
            Ticks then = start.get(e.getKey());
            long user = now.user() - (then == null ? 0 : then.user());
            long system = now.system() - (then == null ? 0 : then.system());
            double[] sum = byGroup.computeIfAbsent(now.group(), g -> new double[2]);
            sum[0] += Math.max(0, user) / USER_HZ;
            sum[1] += Math.max(0, system) / USER_HZ;
        }
        List<Map.Entry<String, double[]>> sorted = new ArrayList<>(byGroup.entrySet());
        sorted.sort((a, b) -> Double.compare(b.getValue()[0] + b.getValue()[1], a.getValue()[0] + a.getValue()[1]));
        Map<String, double[]> out = new LinkedHashMap<>();
        sorted.forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * "writer 12.9 (5.8 kernel), connections 4.0 (1.4 kernel), ..." in microseconds per event;
     * groups under 0.1 us are left out. With {@code processSeconds} (the process's own total over
     * the same window, NaN when unknown), what the groups miss is shown as "ended threads": the
     * CPU of threads that ended inside the window (the bench's producers, which also read their
     * own answers when they block).
     */
    static String perEvent(Map<String, double[]> groups, long events, double processSeconds) {
        double counted = 0;
        for (double[] v : groups.values()) {
            counted += v[0] + v[1];
        }
        StringBuilder b = new StringBuilder(perEvent(groups, events));
        double ended = (processSeconds - counted) * 1e6 / events;
        if (ended >= 0.1) {
            b.append(b.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "ended threads %.1f", ended));
        }
        return b.toString();
    }

    /** As {@link #perEvent(Map, long, double)}, the groups alone. */
    static String perEvent(Map<String, double[]> groups, long events) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, double[]> e : groups.entrySet()) {
            double user = e.getValue()[0] * 1e6 / events;
            double system = e.getValue()[1] * 1e6 / events;
            if (user + system < 0.1) {
                continue;
            }
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(String.format(Locale.ROOT, "%s %.1f (%.1f kernel)", e.getKey(), user + system, system));
        }
        return b.toString();
    }

    /** What a thread does, from its kernel name (the Java name's first 15 characters). */
    static String group(String comm) {
        if (comm.startsWith("ringstore-write")) {
            return "writer";
        } else if (comm.startsWith("ringstore-split")) {
            return "splitter";
        } else if (comm.startsWith("ringstore-conn") || comm.startsWith("ringstore-json")
                || comm.startsWith("ringstore-poll") || comm.startsWith("ringstore-acce")) {
            return "connections";
        } else if (comm.startsWith("ringstore-clien")) {
            return "client";
        } else if (comm.startsWith("bench-producer")) {
            return "producers";
        } else if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            return JIT_GROUP;
        } else if (comm.startsWith("GC Thread") || comm.startsWith("VM Thread") || comm.startsWith("G1 ")) {
            return "gc";
        } else if (comm.startsWith("ringstore-ack")) {
            return "ack-releaser";
        } else if (comm.startsWith("ringstore-check")) {
            return "checkpointer";
        }
        return "other";
    }

    private static Map<String, Ticks> read(long pid) {
        Map<String, Ticks> out = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path task : list.toList()) {
                try {
                    ProcStat stat = ProcStat.read(task.resolve("stat"));
                    out.put(task.getFileName().toString(), new Ticks(group(stat.comm()), stat.userTicks(), stat.systemTicks()));
                } catch (IOException | RuntimeException ended) {
                    // a thread that ended while listed
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return out;
    }
}
