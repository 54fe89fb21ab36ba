package io.ringstore.bench;

import java.io.PrintStream;
import java.util.Locale;

/** The human-readable report: one row per configuration, then store/baseline ratios and notes. */
final class TablePrinter {
    private static final String ROW = "%-8s %9s %9s %9s %7s %8s %8s %8s %7s %7s %9s %9s %7s %7s %6s %6s %6s %6s%n";

    private TablePrinter() {}

    static void print(BenchReport report, PrintStream out) {
        BenchOptions o = report.options();
        BenchReport.Environment env = report.environment();
        out.printf(Locale.ROOT, "ringstore bench: %,d events x %d B payload over %,d streams (%,d used, seed %d), "
                        + "%d producers, store durability %s (default)%n",
                o.events(), o.payloadBytes(), o.streams(), env.streamsUsed(), o.seed(), o.producers(),
                env.durability());
        out.printf(Locale.ROOT, "folder %s, device %s; %s%n", env.folder(), env.device(), env.platform());
        if (env.deviceNote() != null) {
            out.println("device bytes: n/a (" + env.deviceNote() + ")");
        }
        out.println();
        out.printf(Locale.ROOT, ROW, "target", "in-flight", "events", "ev/s", "MB/s", "lat p50", "lat p99",
                "ev/force", "frame B", "force", "force p50", "force p99", "dev B", "bg B", "cpu", "others", "heap", "RSS");
        out.printf(Locale.ROOT, ROW, "", "", "acked", "", "payload", "us", "us", "", "/event", "count", "us", "us",
                "/pay B", "/pay B", "us/ev", "cpu %", "MiB", "MiB");
        for (ConfigResult r : report.rows()) {
            BatchStats b = r.batching();
            out.printf(Locale.ROOT, ROW, r.target(), r.inFlight(), String.format(Locale.ROOT, "%,d", r.run().acked()),
                    String.format(Locale.ROOT, "%,.0f", r.eventsPerSecond()), fixed(r.payloadMBps(), 2),
                    micros(r.run().latencyP50Nanos()), micros(r.run().latencyP99Nanos()),
                    fixed(b.eventsPerForce(), 1), fixed(b.frameBytesPerEvent(), 0),
                    String.format(Locale.ROOT, "%,d", b.forces()),
                    String.format(Locale.ROOT, "%,d", b.forceP50Micros()),
                    String.format(Locale.ROOT, "%,d", b.forceP99Micros()),
                    fixed(r.device().bytesPerPayloadByte(), 2), fixed(r.device().backgroundPerPayloadByte(), 2),
                    fixed(r.cpuMicrosPerEvent(), 1), fixed(100 * r.cpu().otherShare(), 0), mib(r.memory().liveHeapBytes()), mib(r.memory().peakRssBytes()));
            if (r.run().failed() > 0) {
                out.printf(Locale.ROOT, "  ^ %,d appends FAILED; first: %s%n", r.run().failed(), r.run().firstError());
            }
        }
        out.println();
        out.printf(Locale.ROOT, "%-22s %8s %8s %8s %9s %9s %10s%n", "store / baseline", "ev/s", "lat p50", "lat p99",
                "dev B/B", "ev/force", "cpu us/ev");
        for (BenchReport.Ratio q : report.ratios()) {
            out.printf(Locale.ROOT, "%-22s %8s %8s %8s %9s %9s %10s%n", "in-flight " + q.inFlight(), ratio(q.eventsPerSecond()),
                    ratio(q.latencyP50()), ratio(q.latencyP99()), ratio(q.devicePerPayload()), ratio(q.eventsPerForce()),
                    ratio(q.cpuPerEvent()));
        }
        interferenceWarning(report, out);
        out.println();
        out.println("notes:");
        out.println("  dev B/pay B: device sectors written x 512 / (events x payload), over open + run + close + sync;");
        out.println("    the counter is device-wide. bg B/pay B: the device's idle write rate just before, over the");
        out.println("    same window - writes by other processes that are inside dev B/pay B.");
        out.printf(Locale.ROOT, "  baseline: one thread frames (length, CRC32C, %d B body, pad 8) into a preallocated file,%n",
                env.baselineBodyBytes());
        out.println("    one FileChannel write + fdatasync per drained batch, then acks; same queue/batch limits.");
        out.println("  force p50/p99: store from writerStats (last 1024 forces), baseline over all its forces.");
        out.println("  cpu us/ev: this JVM's CPU time (all threads) per event during the load; others cpu %: share of");
        out.println("    all CPUs used by other processes meanwhile (from /proc/stat) - competition on a shared machine.");
        out.println("    On a shared machine the cpu us/ev ratio is the steadiest store/baseline comparison.");
        out.println("  heap: live after a full GC at the end of the run; RSS: VmHWM reset before each configuration");
        out.println("    (touched pages of the store's mapped segments count in it, the baseline's page cache does not).");
        out.printf(Locale.ROOT, "memory at end: heap used %s MiB of max %s MiB; peak RSS (VmHWM) %s MiB%n",
                mib(report.heapUsedBytes()), mib(report.heapMaxBytes()), mib(report.peakRssBytes()));
    }

    /** Says so when other processes visibly competed, since every number here is then partly theirs. */
    private static void interferenceWarning(BenchReport report, PrintStream out) {
        double cpu = 0;
        double device = 0;
        for (ConfigResult r : report.rows()) {
            cpu = Math.max(cpu, nanToZero(r.cpu().otherShare()));
            device = Math.max(device, nanToZero(r.device().backgroundPerPayloadByte() / r.device().bytesPerPayloadByte()));
        }
        if (cpu >= SHARED_CPU || device >= SHARED_DEVICE) {
            out.println();
            out.printf(Locale.ROOT, "WARNING: the machine was shared: other processes used up to %.0f%% of the CPUs, and the%n", 100 * cpu);
            out.printf(Locale.ROOT, "  device's idle write rate came to up to %.0f%% of a window's writes. Throughput and dev B/pay B%n",
                    100 * device);
            out.println("  include their interference; the counter is device-wide (attribute writes per process, e.g.");
            out.println("  with the block:block_bio_queue tracepoint, when it matters).");
        }
    }

    private static final double SHARED_CPU = 0.25;
    private static final double SHARED_DEVICE = 0.10;

    private static double nanToZero(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? 0 : v;
    }

    private static String fixed(double v, int decimals) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String ratio(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%.2fx", v);
    }

    private static String micros(long nanos) {
        return String.format(Locale.ROOT, "%,d", nanos / 1_000);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%,.0f", bytes / (1024.0 * 1024.0));
    }
}
