package io.ringstore.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything a bench run measured, in the order it ran, plus what it ran on, and the ratios and
 * targets of issue 7 computed from it.
 *
 * @param options     the settings
 * @param environment where it ran
 * @param rows        one per target and in-flight depth (the standard workload)
 * @param sweep       one per sweep target and stream count
 * @param fsync       the 4 KiB write + fdatasync probe, or null
 */
record BenchReport(BenchOptions options, Environment environment, List<ConfigResult> rows, List<ConfigResult> sweep,
                   FsyncProbe.Result fsync) {

    /**
     * Where the bench ran.
     *
     * @param folder            the working folder
     * @param device            block device name and MAJ:MIN, or "n/a"
     * @param deviceNote        why there is no device counter, or null
     * @param durability        the store's durability mode (its default)
     * @param baselineBodyBytes body bytes per storage-limit frame (matched to the store's record body)
     * @param streamsUsed       distinct streams the seeded workload touches
     * @param platform          JVM, OS and CPU count
     * @param sqlite            SQLite and driver versions and where the driver came from, or why SQLite did not run
     * @param piProfile         what the Pi profile constrained, or null without it
     */
    record Environment(String folder, String device, String deviceNote, String durability, int baselineBodyBytes,
                       int streamsUsed, String platform, String sqlite, String piProfile) {}

    /**
     * One ratio the issue asks for, with its target when it has one.
     *
     * @param name  what is divided by what, and where
     * @param value the ratio, NaN when a side is missing
     * @param goal  "&gt;= x" or "&lt;= x", or null for a ratio without a target
     * @param bound the target's bound
     */
    record Ratio(String name, double value, String goal, double bound) {
        /** "hit", "MISSED", or "n/a" (no target, or a side missing). */
        String verdict() {
            if (goal == null || Double.isNaN(value)) {
                return "n/a";
            }
            boolean hit = goal.equals(">=") ? value >= bound : value <= bound;
            return hit ? "hit" : "MISSED";
        }

        /** How far from the target, as a factor (&gt; 1: short by that much), NaN without one. */
        double shortBy() {
            if (goal == null || Double.isNaN(value) || value == 0) {
                return Double.NaN;
            }
            return goal.equals(">=") ? bound / value : value / bound;
        }
    }

    ConfigResult find(String target, int inFlight) {
        for (ConfigResult r : rows) {
            if (r.target().equals(target) && r.inFlight() == inFlight) {
                return r;
            }
        }
        return null;
    }

    ConfigResult findSweep(String target, int streams) {
        for (ConfigResult r : sweep) {
            if (r.target().equals(target) && r.streams() == streams) {
                return r;
            }
        }
        return null;
    }

    /** The ratios that matter: ringstore vs SQLite, vs the storage limit, device bytes, sweep flatness. */
    List<Ratio> ratios() {
        List<Ratio> out = new ArrayList<>();
        List<Integer> depths = options.inFlight().stream().sorted((a, b) -> b - a).toList();
        for (int d : depths) { // issue 19: at least 4x SQLite with 32 in flight, 1.3x with 1 (blocking clients)
            out.add(new Ratio("socket / sqlite ev/s, in-flight " + d, evRatio("socket", "sqlite", d),
                    d == 32 || d == 1 ? ">=" : null, d == 1 ? 1.3 : 4.0));
            out.add(new Ratio("store / sqlite ev/s, in-flight " + d, evRatio("store", "sqlite", d), null, 0));
            if (find("socket-multi", d) != null) {
                out.add(new Ratio("socket-multi / sqlite ev/s, in-flight " + d, evRatio("socket-multi", "sqlite", d),
                        null, 0));
                out.add(new Ratio("socket-multi cpu us per event, in-flight " + d, find("socket-multi", d)
                        .cpuMicrosPerEvent(), null, 0));
            }
        }
        for (int d : depths) {
            out.add(new Ratio("socket / limit ev/s, in-flight " + d, evRatio("socket", "limit", d),
                    d == 32 ? ">=" : null, 0.40)); // at least 40% of the storage limit with 32 in flight
            out.add(new Ratio("store / limit ev/s, in-flight " + d, evRatio("store", "limit", d), null, 0));
        }
        for (int d : depths) {
            out.add(new Ratio("socket / sqlite device B per payload B, in-flight " + d,
                    deviceRatio("socket", "sqlite", d), d == depths.getFirst() ? "<=" : null, 0.25)); // a quarter
        }
        { // issue 19: whole-stream reads through the socket
            int d = options.readDepth();
            ConfigResult socket = find("socket", d);
            ConfigResult sqlite = find("sqlite", d);
            if (socket != null && socket.reads() != null) {
                out.add(new Ratio("socket 100-event-stream read p99 (value: ms), in-flight " + d,
                        socket.reads().p99Nanos() / 1e6, "<=", 1.0));
                if (sqlite != null && sqlite.reads() != null) {
                    out.add(new Ratio("socket / sqlite whole-stream read p99, in-flight " + d,
                            (double) socket.reads().p99Nanos() / sqlite.reads().p99Nanos(), null, 0));
                }
            }
            int n = BenchRunner.longStreamEvents(options);
            if (socket != null && socket.longRead() != null) {
                out.add(new Ratio(String.format(Locale.ROOT, "socket %,d-event stream read (value: M ev/s)", n),
                        socket.longReadEventsPerSecond(n) / 1e6, ">=", 1.0));
                if (sqlite != null && sqlite.longRead() != null) {
                    out.add(new Ratio(String.format(Locale.ROOT, "socket / sqlite %,d-event stream read ev/s", n),
                            socket.longReadEventsPerSecond(n) / sqlite.longReadEventsPerSecond(n), null, 0));
                }
            }
        }
        for (int d : depths) { // issue 19: absolute targets of the socket path
            ConfigResult socket = find("socket", d);
            if (socket != null && (d == 32 || d == 1)) {
                if (d == 32) {
                    out.add(new Ratio("socket cpu us per event (bench JVM + daemon), in-flight " + d,
                            socket.cpuMicrosPerEvent(), "<=", 12));
                }
                out.add(new Ratio("socket device B per payload B, in-flight " + d,
                        socket.device().bytesPerPayloadByte(), "<=", d == 32 ? 2.5 : 6));
            }
        }
        for (int d : depths) { // two boards: what the standby costs, by mode
            for (String t : List.of("pair-local", "pair-memory", "pair-durable")) {
                if (find(t, d) != null && find("socket", d) != null) {
                    out.add(new Ratio(t + " / socket ev/s, in-flight " + d, evRatio(t, "socket", d), null, 0));
                    out.add(new Ratio(t + " / socket p99, in-flight " + d, p99Ratio(t, "socket", d), null, 0));
                }
            }
        }
        for (String t : options.sweepTargets()) {
            List<Integer> counts = options.sweepStreams().stream().sorted().toList();
            if (counts.size() < 2) {
                continue;
            }
            int few = counts.getFirst();
            int many = counts.getLast();
            ConfigResult a = findSweep(t, many);
            ConfigResult b = findSweep(t, few);
            double v = a == null || b == null ? Double.NaN : a.eventsPerSecond() / b.eventsPerSecond();
            out.add(new Ratio(String.format(Locale.ROOT, "%s sweep ev/s, %,d / %,d streams", t, many, few), v,
                    t.equals("store") || t.equals("socket") ? ">=" : null, 0.85)); // 100,000 streams within 15% of 1
        }
        return out;
    }

    private double evRatio(String a, String b, int depth) {
        ConfigResult x = find(a, depth);
        ConfigResult y = find(b, depth);
        return x == null || y == null ? Double.NaN : x.eventsPerSecond() / y.eventsPerSecond();
    }

    private double p99Ratio(String a, String b, int depth) {
        ConfigResult x = find(a, depth);
        ConfigResult y = find(b, depth);
        return x == null || y == null ? Double.NaN
                : (double) x.run().latencyP99Nanos() / y.run().latencyP99Nanos();
    }

    private double deviceRatio(String a, String b, int depth) {
        ConfigResult x = find(a, depth);
        ConfigResult y = find(b, depth);
        return x == null || y == null ? Double.NaN : x.device().bytesPerPayloadByte() / y.device().bytesPerPayloadByte();
    }
}
