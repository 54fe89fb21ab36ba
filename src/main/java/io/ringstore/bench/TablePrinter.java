package io.ringstore.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The human-readable report: the comparison table, the sweep, the ratios with their targets, and notes. */
final class TablePrinter {
    private static final String ROW = "%-22s %5s %9s %9s %7s %9s %9s %9s %9s %7s %7s %8s %7s %8s%n";
    private static final Map<String, String> NAMES = Map.of("limit", "storage limit", "store", "ringstore in-process",
            "socket", "ringstore socket", "json", "ringstore JSON socket", "sqlite", "SQLite WAL FULL", "naive", "naive stream files",
            "socket-multi", "socket multi-append", "pair-local", "2 boards, local", "pair-memory", "2 boards, repl-memory", "pair-durable", "2 boards, repl-durable");

    private TablePrinter() {}

    static void print(BenchReport report, PrintStream out) {
        BenchOptions o = report.options();
        BenchReport.Environment env = report.environment();
        out.printf(Locale.ROOT, "ringstore bench: %,d events x %d B payload over %,d streams (%,d used, seed %d), "
                        + "%d producers, durable acks (store durability %s)%n",
                o.events(), o.payloadBytes(), o.streams(), env.streamsUsed(), o.seed(), o.producers(),
                env.durability());
        out.printf(Locale.ROOT, "folder %s, device %s; %s%n", env.folder(), env.device(), env.platform());
        if (env.piProfile() != null) {
            out.println("Pi profile: " + env.piProfile() + " (this JVM and the daemon's)");
        }
        if (env.sqlite() != null) { // null when no SQLite row ran
            out.println("SQLite: " + env.sqlite());
        }
        if (o.sdCard() != null) {
            out.println("SD-card imitation: " + o.sdCard() + " (IOPS:bytes/s write throttle, cgroup v1 blkio) on the "
                    + "socket daemon and each two-board primary; standbys unthrottled");
        }
        if (o.inService() != null) {
            out.println("stores in service (--in-service " + o.inService() + "): each store row first aged until its log "
                    + "rolled into a recycled segment (progress lines: how many of the row's own rolls recycled)"
                    + (o.inService().equals("cold") ? "; the log's files dropped from the page cache before the appends" : ""));
        }
        if (env.deviceNote() != null) {
            out.println("device bytes: n/a (" + env.deviceNote() + ")");
        }
        if (report.fsync() != null) {
            FsyncProbe.Result f = report.fsync();
            out.printf(Locale.ROOT, "storage: 4 KiB write + fdatasync p50 %,d us, p99 %,d us, max %,d us (%,d writes)%n",
                    f.p50Micros(), f.p99Micros(), f.maxMicros(), f.writes());
        }
        out.println();
        header(out);
        for (ConfigResult r : report.rows()) {
            row(out, r, NAMES.getOrDefault(r.target(), r.target()), Integer.toString(r.inFlight()));
        }
        if (!report.sweep().isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "stream-count sweep: %,d events at each count, in-flight %d%n", o.sweepEvents(),
                    o.readDepth());
            header(out);
            for (ConfigResult r : report.sweep()) {
                row(out, r, String.format(Locale.ROOT, "%s %,d streams", r.target(), r.streams()),
                        Integer.toString(r.inFlight()));
            }
        }
        out.println();
        out.println("ratios and socket figures (one run, same folder; issues 7 and 19's targets where they set one):");
        for (BenchReport.Ratio q : report.ratios()) {
            String verdict = q.goal() == null ? "" : String.format(Locale.ROOT, "target %s %.2f: %s%s", q.goal(),
                    q.bound(), q.verdict(), q.verdict().equals("MISSED")
                            ? String.format(Locale.ROOT, " (short by %.2fx)", q.shortBy()) : "");
            out.printf(Locale.ROOT, "  %-56s %8s   %s%n", q.name(),
                    q.name().contains(" / ") ? ratio(q.value()) : fixed(q.value(), 2), verdict);
        }
        interferenceWarning(report, out);
        out.println();
        out.println("notes:");
        out.println("  ev/s, MB/s (payload), append p50/p99: measured appends only, from submit to durable ack.");
        out.printf(Locale.ROOT, "  warm-up: each configuration first appends at least %,d events (at most a fifth of its%n"
                + "    own) to other streams at its depth, and before timed reads reads %,d streams, each going on%n"
                + "    until the JIT compiler of the process holding the data (the daemon child, or this JVM) used%n"
                + "    under %.0f%% of a CPU over a second, at most %.0f s; stderr says what each took.%n",
                o.warmupEvents(), o.reads() / 10, 100 * WarmUp.QUIET_SHARE, o.warmupSeconds());
        out.printf(Locale.ROOT, "  read p50/p99: %,d whole-stream reads of random streams of the run, each checked complete and in%n",
                o.reads());
        out.printf(Locale.ROOT, "    order, while %,d ev/s of background appends go on (depth %d rows; page cache warm).%n",
                (long) o.ingestRate(), o.readDepth());
        if (BenchRunner.longStreamEvents(o) > 0) {
            out.printf(Locale.ROOT, "  long-stream read: then one stream of %,d events is appended and read whole, once untimed%n"
                    + "    and 3 times timed (median; checked), without background appends (socket: the client's%n"
                    + "    blocking readStreamToEndAndWait, pipelined pages, as every socket read above).%n",
                    BenchRunner.longStreamEvents(o));
        }
        out.println("  dev B/pay B: device sectors written x 512 / payload bytes acked, over appends + reads + splitter");
        out.println("    drain (ringstore waits until every event is in its stream file) + close (SQLite checkpoints");
        out.println("    its WAL) + sync, from after the warm-up (settled: drained, checkpointed; and synced). The");
        out.println("    counter is device-wide: others' writes count too;");
        out.println("    bg B/pay B is the device's idle write rate just before, over the same window: how much of");
        out.println("    dev B/pay B may be others'. Compare rows whose bg B/pay B is small.");
        out.println("  ev/commit: events per force (SQLite: per transaction commit).");
        out.println("  peak RSS: VmHWM of the process holding the data: the daemon's for the socket; this JVM's");
        out.println("    otherwise (producers included; SQLite's native memory counts, its page cache does not).");
        out.println("  cpu us/ev: CPU of this JVM and of the daemon child per event during the appends.");
        out.printf(Locale.ROOT, "  storage limit: framed records (%d B body, the store's record size) to a preallocated file,%n",
                env.baselineBodyBytes());
        out.println("    one write + fdatasync per drained batch; the naive design runs fewer events (one fdatasync each).");
    }

    private static void header(PrintStream out) {
        out.printf(Locale.ROOT, ROW, "target", "depth", "events", "ev/s", "MB/s", "append", "append", "read", "read",
                "dev B/", "bg B/", "ev/", "peak", "cpu");
        out.printf(Locale.ROOT, ROW, "", "", "acked", "", "", "p50 us", "p99 us", "p50 us", "p99 us", "pay B",
                "pay B", "commit", "RSS MiB", "us/ev");
    }

    private static void row(PrintStream out, ConfigResult r, String name, String depth) {
        SplitterReport.ReadSet reads = r.reads();
        out.printf(Locale.ROOT, ROW, name, depth, String.format(Locale.ROOT, "%,d", r.run().acked()),
                String.format(Locale.ROOT, "%,.0f", r.eventsPerSecond()), fixed(r.payloadMBps(), 2),
                micros(r.run().latencyP50Nanos()), micros(r.run().latencyP99Nanos()),
                reads == null ? "-" : micros(reads.p50Nanos()), reads == null ? "-" : micros(reads.p99Nanos()),
                fixed(r.device().bytesPerPayloadByte(), 2), fixed(r.device().backgroundPerPayloadByte(), 2),
                fixed(r.batching().eventsPerForce(), 1),
                mib(r.memory().peakRssBytes()), fixed(r.cpuMicrosPerEvent(), 1));
        if (r.run().failed() > 0) {
            out.printf(Locale.ROOT, "  ^ %,d appends FAILED; first: %s%n", r.run().failed(), r.run().firstError());
        }
        if (reads != null && reads.wrong() > 0) {
            out.printf(Locale.ROOT, "  ^ %,d reads WRONG; first: %s%n", reads.wrong(), reads.firstWrong());
        }
        if (r.longRead() != null && r.longRead().wrong() > 0) {
            out.printf(Locale.ROOT, "  ^ %,d long-stream reads WRONG; first: %s%n", r.longRead().wrong(),
                    r.longRead().firstWrong());
        }
        if (r.unsplitEvents() > 0) {
            out.printf(Locale.ROOT, "  ^ %,d events were still unsplit (splitter held by I/O pressure) when the window%n"
                    + "    closed: dev B/pay B misses their stream-file writes (a lower bound)%n", r.unsplitEvents());
        }
    }

    /** Says so when other processes visibly competed, since every number here is then partly theirs. */
    private static void interferenceWarning(BenchReport report, PrintStream out) {
        double cpu = 0;
        double device = 0;
        for (List<ConfigResult> rows : List.of(report.rows(), report.sweep())) {
            for (ConfigResult r : rows) {
                cpu = Math.max(cpu, nanToZero(r.cpu().otherShare()));
                device = Math.max(device, nanToZero(r.device().backgroundPerPayloadByte() / r.device().bytesPerPayloadByte()));
            }
        }
        if (cpu >= SHARED_CPU || device >= SHARED_DEVICE) {
            out.println();
            out.printf(Locale.ROOT, "WARNING: the machine was shared: other processes used up to %.0f%% of the CPUs, and the%n", 100 * cpu);
            out.printf(Locale.ROOT, "  device's idle write rate came to up to %.0f%% of a window's writes. Throughput and dev B/pay B%n",
                    100 * device);
            out.println("  include their interference (the socket's daemon counts as another process in the CPU share).");
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
