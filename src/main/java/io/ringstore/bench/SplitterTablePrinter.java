package io.ringstore.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The human-readable report of {@code bench --splitter}: one section per part, ratios, notes. */
final class SplitterTablePrinter {
    private static final String RUN = "%-10s %5s %9s %8s %8s %8s %6s %6s %7s %6s %6s %6s %6s %7s %6s %6s %6s %6s%n";

    private SplitterTablePrinter() {}

    static void print(SplitterReport report, PrintStream out) {
        SplitterBenchOptions o = report.options();
        SplitterReport.Environment env = report.environment();
        out.printf(Locale.ROOT, "ringstore bench --splitter: %d B payload, %d producers, seed %d; splitter window "
                        + "%,d B / %,d ms%s%n", o.load().payloadBytes(), o.load().producers(), o.load().seed(),
                env.windowBytes(), env.windowMillis(), o.windowMillis() == 0 ? " (defaults)" : " (--window-ms)");
        out.printf(Locale.ROOT, "folder %s, device %s; %s%n", env.folder(), env.device(), env.platform());
        if (env.deviceNote() != null) {
            out.println("device bytes: n/a (" + env.deviceNote() + ")");
        }
        if (!report.onOff().isEmpty()) {
            onOff(report, out);
        }
        if (report.catchUp() != null) {
            catchUp(report.catchUp(), out);
        }
        if (!report.sweep().isEmpty()) {
            sweep(report, out);
        }
        if (report.rehydration() != null) {
            rehydration(report.rehydration(), out);
        }
        notes(out);
    }

    private static void onOff(SplitterReport report, PrintStream out) {
        SplitterBenchOptions.OnOff c = report.options().onOff();
        out.println();
        out.printf(Locale.ROOT, "1. append throughput, splitter running vs disabled: %,d events over %,d streams "
                + "(in-flight 1: the first %,d)%n", c.events(), report.options().load().streams(), c.eventsAtDepth1());
        runHeader(out, "splitter");
        for (SplitterReport.Run r : report.onOff()) {
            runRow(out, switch (r.target()) {
                case "store" -> "on";
                case "store-psi" -> "on, real";
                default -> "off";
            }, r);
        }
        out.printf(Locale.ROOT, "%-24s %8s %8s %10s %14s %9s%n", "x / off", "ev/s", "lat p99", "cpu us/ev",
                "cpu to lag 0", "dev B/B");
        for (int depth : c.inFlight()) {
            SplitterReport.Run off = find(report.onOff(), "store-off", depth);
            for (String target : List.of("store", "store-psi")) {
                SplitterReport.Run on = find(report.onOff(), target, depth);
                if (on == null || off == null) {
                    continue;
                }
                out.printf(Locale.ROOT, "%-24s %8s %8s %10s %14s %9s%n",
                        (target.equals("store") ? "on" : "on, real") + ", in-flight " + depth,
                        ratio(on.eventsPerSecond() / off.eventsPerSecond()),
                        ratio((double) on.run().latencyP99Nanos() / off.run().latencyP99Nanos()),
                        ratio(on.cpuMicrosPerEvent() / off.cpuMicrosPerEvent()),
                        ratio(on.cpuMicrosPerEventToLagZero() / off.cpuMicrosPerEventToLagZero()),
                        ratio(on.device().bytesPerPayloadByte() / off.device().bytesPerPayloadByte()));
            }
        }
    }

    private static void catchUp(SplitterReport.CatchUp c, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "2. catch-up after a pause: steady ingest of %,.0f ev/s offered over %,d streams%n",
                c.ingestRate(), c.streams());
        out.printf(Locale.ROOT, "   held paused %.1f s (ingest measured %,.0f ev/s): lag at release %,d events, %s%n",
                c.pausedSeconds(), c.pausedIngestEventsPerSecond(), c.lagEventsAtRelease(), mb(c.lagBytesAtRelease()));
        out.printf(Locale.ROOT, "   after the release: left the pause in %.2f s (pressure hysteresis), backlog split in %s s,%n",
                c.resumeSeconds(), fixed(c.backlogSeconds(), 1));
        out.printf(Locale.ROOT, "   caught up (RUNNING, lag within one window) in %s s%s; lag then %,d events%n",
                fixed(c.caughtUpSeconds(), 1), c.timedOut() ? " - NOT CAUGHT UP, timed out" : "",
                c.lagEventsAtCaughtUp());
        out.printf(Locale.ROOT, "   split %,.0f ev/s while catching up, ingest %,.0f ev/s meanwhile: catch-up multiple %s%n",
                c.splitEventsPerSecond(), c.ingestEventsPerSecond(), ratio(c.multiple()));
        if (c.run() != null && c.run().failed() > 0) {
            out.printf(Locale.ROOT, "   %,d appends FAILED; first: %s%n", c.run().failed(), c.run().firstError());
        }
    }

    private static void sweep(SplitterReport report, PrintStream out) {
        SplitterBenchOptions.Sweep s = report.options().sweep();
        out.println();
        out.printf(Locale.ROOT, "3. stream-count sweep, in-flight %d: store %,d events per count (splitter on), naive "
                + "the first %,d of them%n", s.inFlight(), s.events(), s.naiveEvents());
        runHeader(out, "target");
        for (SplitterReport.Run r : report.sweep()) {
            runRow(out, r.target() + " " + compact(r.streams()), r);
        }
        double[] store = range(report.sweep(), "store", false);
        double[] split = range(report.sweep(), "store", true);
        double[] naive = range(report.sweep(), "naive", false);
        out.printf(Locale.ROOT, "flatness (min / max over the counts): store append ev/s %s, splitter ev/s %s, "
                + "naive ev/s %s%n", ratio(store[0] / store[1]), ratio(split[0] / split[1]), ratio(naive[0] / naive[1]));
        out.printf(Locale.ROOT, "%-24s %10s %10s %12s%n", "naive / store", "ev/s", "dev B/B", "cpu us/ev");
        for (int streams : s.streamCounts()) {
            SplitterReport.Run st = find(report.sweep(), "store", s.inFlight(), streams);
            SplitterReport.Run nv = find(report.sweep(), "naive", s.inFlight(), streams);
            if (st == null || nv == null) {
                continue;
            }
            out.printf(Locale.ROOT, "%-24s %10s %10s %12s%n", String.format(Locale.ROOT, "%,d streams", streams),
                    ratio(nv.eventsPerSecond() / st.eventsPerSecond()),
                    ratio(nv.device().bytesPerPayloadByte() / st.device().bytesPerPayloadByte()),
                    ratio(nv.cpuMicrosPerEvent() / st.cpuMicrosPerEventToLagZero()));
        }
    }

    private static void rehydration(SplitterReport.Rehydration r, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "4. rehydration: read a whole %d-event stream (one readStream call), %d streams per set, "
                + "under %,.0f ev/s offered ingest%n", r.eventsPerStream(), r.streamsPerSet(), r.ingestRate());
        String row = "%-38s %7s %6s %9s %9s %9s %11s%n";
        out.printf(Locale.ROOT, row, "set", "reads", "wrong", "p50 us", "p99 us", "max us", "ingest ev/s");
        for (SplitterReport.ReadSet s : r.sets()) {
            out.printf(Locale.ROOT, row, s.label(), s.reads(), s.wrong(), micros(s.p50Nanos()), micros(s.p99Nanos()),
                    micros(s.maxNanos()), String.format(Locale.ROOT, "%,.0f", s.ingestEventsPerSecond()));
            if (s.wrong() > 0) {
                out.println("  ^ first wrong read: " + s.firstWrong());
            }
        }
        if (r.sets().size() == 3) {
            SplitterReport.ReadSet split = r.sets().get(1);
            SplitterReport.ReadSet unsplit = r.sets().get(2);
            out.printf(Locale.ROOT, "unsplit / split (same phase): p50 %s, p99 %s; the splitter moved %,d events "
                            + "during that phase%s%n", ratio((double) unsplit.p50Nanos() / split.p50Nanos()),
                    ratio((double) unsplit.p99Nanos() / split.p99Nanos()), r.splitWhileUnsplit(),
                    r.splitWhileUnsplit() == 0 ? " (the unsplit set stayed in the log tail)" : " - NOT HELD");
        }
    }

    private static void notes(PrintStream out) {
        out.println();
        out.println("notes:");
        out.println("  ev/s: acknowledged appends per second (durability sync) from the first append to the last ack.");
        out.println("  split ev/s: events the splitter moved to stream files / seconds from the first append to lag 0;");
        out.println("    drain s: from the last ack to lag 0 (it includes the last part-full window waiting to age).");
        out.println("  cpu us/ev: this JVM's CPU per event during the appends; to lag 0: until lag 0 (splitter included).");
        out.println("  split cpu/ev: the splitter thread's own CPU us per event split (its other time: I/O waits).");
        out.println("  on / store rows: the splitter's pressure signals are held calm, so it runs all the time (the");
        out.println("    writer's worst case, and the splitter's own speed). on, real: the real signals (PSI, writer");
        out.println("    queue, force p99); paused: seconds they held it (PSI is machine-wide: others' I/O counts).");
        out.println("  dev B/pay B: device sectors written x 512 / (events x payload) over open + appends + drain to");
        out.println("    lag 0 + close + sync: log and stream files together. The counter is device-wide; bg B/pay B");
        out.println("    is the idle rate just before, over the same window (other processes' share).");
        out.println("  naive: each append written and fdatasync'ed into its stream's own file, on up to "
                + NaiveStreamFiles.MAX_LANES + " threads");
        out.println("    (a stream always on the same one), at most " + NaiveStreamFiles.MAX_OPEN_FILES
                + " open handles (LRU), the store's folder layout.");
        out.println("  catch-up, rehydration: a held gauge replaces the real pressure signals; under steady ingest");
        out.println("    the lag never stays at 0 (the newest window waits to fill or age), so 'caught up' is the");
        out.println("    splitter's own RUNNING state once the backlog is gone: lag within one window.");
        out.println("  rehydration: reads on one thread, warm page cache; every read checked (whole stream, in order).");
    }

    private static void runHeader(PrintStream out, String first) {
        out.printf(Locale.ROOT, RUN, first, "in-fl", "events", "ev/s", "lat p50", "lat p99", "cpu", "cpu to", "split",
                "split", "lag 0", "drain", "paused", "files", "file", "dev B", "bg B", "others");
        out.printf(Locale.ROOT, RUN, "", "", "acked", "", "us", "us", "us/ev", "lag 0", "ev/s", "cpu/ev", "s", "s",
                "s", "", "MiB", "/pay B", "/pay B", "cpu %");
    }

    private static void runRow(PrintStream out, String label, SplitterReport.Run r) {
        boolean split = !Double.isNaN(r.lagZeroSeconds());
        out.printf(Locale.ROOT, RUN, label, r.inFlight(), String.format(Locale.ROOT, "%,d", r.run().acked()),
                fixed(r.eventsPerSecond(), 0), micros(r.run().latencyP50Nanos()), micros(r.run().latencyP99Nanos()),
                fixed(r.cpuMicrosPerEvent(), 1), fixed(r.cpuMicrosPerEventToLagZero(), 1),
                split ? fixed(r.splitEventsPerSecond(), 0) : "-", split ? fixed(r.splitterCpuMicrosPerEvent(), 1) : "-",
                split ? fixed(r.lagZeroSeconds(), 1) : "-",
                split ? fixed(r.drainSeconds(), 1) : "-",
                r.target().equals("store-psi") ? fixed(r.pressure().pausedSeconds(), 1) : "-",
                String.format(Locale.ROOT, "%,d", r.files()), fixed(r.fileBytes() / (1024.0 * 1024.0), 0),
                fixed(r.device().bytesPerPayloadByte(), 2), fixed(r.device().backgroundPerPayloadByte(), 2),
                fixed(100 * r.cpu().otherShare(), 0));
        if (r.run().failed() > 0) {
            out.printf(Locale.ROOT, "  ^ %,d appends FAILED; first: %s%n", r.run().failed(), r.run().firstError());
        }
        if (r.target().startsWith("store") && !r.target().equals("store-off") && !split) {
            out.println("  ^ the splitter did not reach lag 0 within the timeout");
        }
    }

    /** {min, max} of append ev/s (or splitter ev/s) over the rows of one target. */
    private static double[] range(List<SplitterReport.Run> rows, String target, boolean splitter) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (SplitterReport.Run r : rows) {
            if (r.target().equals(target)) {
                double v = splitter ? r.splitEventsPerSecond() : r.eventsPerSecond();
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        return new double[] {min, max};
    }

    private static SplitterReport.Run find(List<SplitterReport.Run> rows, String target, int depth) {
        for (SplitterReport.Run r : rows) {
            if (r.target().equals(target) && r.inFlight() == depth) {
                return r;
            }
        }
        return null;
    }

    private static SplitterReport.Run find(List<SplitterReport.Run> rows, String target, int depth, int streams) {
        for (SplitterReport.Run r : rows) {
            if (r.target().equals(target) && r.inFlight() == depth && r.streams() == streams) {
                return r;
            }
        }
        return null;
    }

    private static String compact(int n) {
        return n >= 1_000 && n % 1_000 == 0 ? (n / 1_000) + "k" : Integer.toString(n);
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MB", bytes / 1e6);
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
}
