package io.ringstore.bench;

import io.ringstore.cli.Args;
import io.ringstore.split.SplitterOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Settings of {@code ringstore bench --splitter} (issue 3's measurements), checked once.
 *
 * @param load           what every part appends: streams, payload, producers, seed
 * @param onOff          part "onoff": the store with the splitter running vs disabled
 * @param catchUp        part "catchup": splitter held paused, then released, under steady ingest
 * @param sweep          part "sweep": stream counts, store vs the naive one-file-per-stream design
 * @param rehydrate      part "rehydrate": whole-stream read latency, split vs unsplit streams
 * @param parts          which parts run, in the order above
 * @param windowMillis   the splitter's window age limit; 0: the store's default
 * @param dir            folder to work in, or null for a fresh temp folder under /var/tmp
 * @param idleMillis     idle sample of the device's background writes before each device window
 * @param progressMillis interval of progress lines on stderr
 */
record SplitterBenchOptions(Load load, OnOff onOff, CatchUp catchUp, Sweep sweep, Rehydrate rehydrate,
                            Set<String> parts, long windowMillis, Path dir, long idleMillis, long progressMillis) {

    static final List<String> PARTS = List.of("onoff", "catchup", "sweep", "rehydrate");

    /** @param streams streams of the on/off and catch-up workloads (and the rehydration background) */
    record Load(int streams, int payloadBytes, int producers, long seed) {}

    /**
     * @param events         events at in-flight depths above 1 (issue 2's workload)
     * @param eventsAtDepth1 the first this many of them at in-flight 1 (one fdatasync per few events is slow)
     * @param inFlight       depths, each run splitter-off and splitter-on
     * @param targets        "off" (disabled), "on" (pressure held calm: always running), "real" (real gauges)
     */
    record OnOff(int events, int eventsAtDepth1, List<Integer> inFlight, List<String> targets) {}

    /**
     * @param pausedEvents   events appended while the splitter is held paused
     * @param ingestRate     steady ingest, events/s, before and after the release
     * @param timeoutSeconds give up waiting for the catch-up after this long
     */
    record CatchUp(int pausedEvents, double ingestRate, long timeoutSeconds) {}

    /**
     * @param streamCounts stream counts to sweep
     * @param events       events the store appends at each count
     * @param naiveEvents  the first this many go to the naive design (one fdatasync per event)
     * @param inFlight     depth for both
     */
    record Sweep(List<Integer> streamCounts, int events, int naiveEvents, int inFlight) {}

    /**
     * @param streamsPerSet   streams in the split set and in the unsplit set
     * @param eventsPerStream events in each of them
     * @param reads           whole-stream reads timed per set
     * @param ingestRate      background appends per second (other streams) while reading
     */
    record Rehydrate(int streamsPerSet, int eventsPerStream, int reads, double ingestRate) {}

    static final String USAGE = """
            usage: ringstore bench --splitter [--parts onoff,catchup,sweep,rehydrate] [--quick]
                     [--events N] [--events-in-flight-1 N] [--in-flight N[,N...]] [--streams N]
                     [--onoff-targets off,on,real]
                     [--payload BYTES] [--producers N] [--paused-events N] [--ingest-rate N]
                     [--catch-up-timeout S] [--sweep-streams N[,N...]] [--sweep-events N]
                     [--naive-events N] [--rehydrate-streams N] [--rehydrate-reads N]
                     [--window-ms N] [--dir DIR] [--seed N] [--idle-ms N]
              Issue 3's numbers for the lazy splitter, each part in fresh store folders:
              onoff      the same workload appended with the splitter disabled (off), running with its
                         pressure signals held calm (on) and with the real signals (real), at each
                         in-flight depth; append ev/s, and device bytes per payload byte (log and
                         stream files together: a splitter-on window runs until lag 0)
              catchup    splitter held paused (a pressure gauge reading high) while --paused-events
                         arrive at --ingest-rate, then released while ingest goes on: its split rate
                         as a multiple of the ingest rate, and the time until it has caught up
              sweep      for each stream count: store append ev/s and splitter ev/s (appends start
                         to lag 0), and the naive design (each append forced into its stream's own
                         file) on the first --naive-events of the same workload
              rehydrate  p50/p99 of reading a whole 100-event stream while other streams take
                         --ingest-rate appends: split streams (in stream files) and unsplit ones
                         (kept in the log tail by holding the splitter paused)
              defaults: --events 1000000 --events-in-flight-1 100000 --in-flight 32,1 --streams 10000
                        --onoff-targets off,on,real --payload 256 --producers 8 --paused-events 100000
                        --ingest-rate 5000 --catch-up-timeout 180 --sweep-streams 1,100,10000,100000
                        --sweep-events 200000 --naive-events 30000 --rehydrate-streams 200
                        --rehydrate-reads 2000 --window-ms (store default) --seed 42 --idle-ms 2000
                        (about 10 minutes on a shared 2-core machine)
              --quick   about a minute: 50000/10000 events, 10000 paused, 20000 per sweep point,
                        2000 naive, 50 streams x 300 reads, 0.5 s idle samples
            """;

    SplitterBenchOptions {
        if (load.streams() < 1 || load.payloadBytes() < 0 || load.producers() < 1) {
            throw new IllegalArgumentException("--streams and --producers must be >= 1, --payload >= 0");
        }
        if (onOff.events() < 1 || onOff.eventsAtDepth1() < 1 || onOff.inFlight().isEmpty()
                || onOff.inFlight().stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("--events and --events-in-flight-1 must be >= 1, --in-flight depths >= 1");
        }
        if (onOff.targets().isEmpty() || !List.of("off", "on", "real").containsAll(onOff.targets())) {
            throw new IllegalArgumentException("--onoff-targets takes some of off,on,real: " + onOff.targets());
        }
        if (catchUp.pausedEvents() < 1 || catchUp.ingestRate() <= 0 || catchUp.timeoutSeconds() < 1) {
            throw new IllegalArgumentException("--paused-events, --ingest-rate and --catch-up-timeout must be >= 1");
        }
        if (sweep.streamCounts().isEmpty() || sweep.streamCounts().stream().anyMatch(n -> n < 1)
                || sweep.events() < 1 || sweep.naiveEvents() < 1) {
            throw new IllegalArgumentException("--sweep-streams counts, --sweep-events and --naive-events must be >= 1");
        }
        if (rehydrate.streamsPerSet() < 1 || rehydrate.eventsPerStream() < 1 || rehydrate.reads() < 1) {
            throw new IllegalArgumentException("--rehydrate-streams and --rehydrate-reads must be >= 1");
        }
        if (parts.isEmpty() || !PARTS.containsAll(parts)) {
            throw new IllegalArgumentException("--parts takes some of " + String.join(",", PARTS) + ": " + parts);
        }
        if (windowMillis < 0 || idleMillis < 0 || progressMillis < 1) {
            throw new IllegalArgumentException("--window-ms and --idle-ms must be >= 0");
        }
        parts = Set.copyOf(parts);
    }

    static SplitterBenchOptions parse(String[] args) throws Args.UsageException {
        Args a = Args.parse(args,
                Set.of("--events", "--events-in-flight-1", "--in-flight", "--streams", "--payload", "--producers",
                        "--paused-events", "--ingest-rate", "--catch-up-timeout", "--sweep-streams",
                        "--sweep-events", "--naive-events", "--rehydrate-streams", "--rehydrate-reads",
                        "--window-ms", "--dir", "--seed", "--idle-ms", "--parts", "--onoff-targets"),
                Set.of("--splitter", "--quick"));
        boolean quick = a.has("--quick");
        try {
            int producers = intValue(a, "--producers", 8);
            List<Integer> depths = numbers(a, "--in-flight", "32,1");
            double rate = intValue(a, "--ingest-rate", 5_000);
            return new SplitterBenchOptions(
                    new Load(intValue(a, "--streams", 10_000), intValue(a, "--payload", 256), producers,
                            a.getLong("--seed", 42)),
                    new OnOff(intValue(a, "--events", quick ? 50_000 : 1_000_000),
                            intValue(a, "--events-in-flight-1", quick ? 10_000 : 100_000), depths,
                            List.of(a.get("--onoff-targets", "off,on,real").split(","))),
                    new CatchUp(intValue(a, "--paused-events", quick ? 10_000 : 100_000), rate,
                            a.getLong("--catch-up-timeout", 180)),
                    new Sweep(numbers(a, "--sweep-streams", "1,100,10000,100000"),
                            intValue(a, "--sweep-events", quick ? 20_000 : 200_000),
                            intValue(a, "--naive-events", quick ? 2_000 : 30_000),
                            depths.stream().mapToInt(Integer::intValue).max().orElse(32)),
                    new Rehydrate(intValue(a, "--rehydrate-streams", quick ? 50 : 200), 100,
                            intValue(a, "--rehydrate-reads", quick ? 300 : 2_000), rate),
                    new LinkedHashSet<>(List.of(a.get("--parts", String.join(",", PARTS)).split(","))),
                    a.getLong("--window-ms", 0),
                    a.has("--dir") ? Path.of(a.get("--dir", null)) : null,
                    a.getLong("--idle-ms", quick ? 500 : 2_000),
                    quick ? 2_000 : 5_000);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    /** The splitter options every splitter-on store here runs with: the defaults, but for --window-ms. */
    SplitterOptions splitterOptions() {
        SplitterOptions d = SplitterOptions.defaults();
        return windowMillis == 0 ? d : d.withWindow(d.windowBytes(), windowMillis);
    }

    boolean runs(String part) {
        return parts.contains(part);
    }

    private static int intValue(Args a, String key, int fallback) throws Args.UsageException {
        long v = a.getLong(key, fallback);
        if (v > Integer.MAX_VALUE) {
            throw new Args.UsageException(key + " too large: " + v);
        }
        return (int) v;
    }

    private static List<Integer> numbers(Args a, String key, String fallback) throws Args.UsageException {
        String text = a.get(key, fallback);
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",")) {
            try {
                out.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw new Args.UsageException(key + " takes numbers separated by commas: " + text);
            }
        }
        return List.copyOf(out);
    }
}
