package io.ringstore.bench;

import io.ringstore.cli.Args;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The benchmark's settings, checked once.
 *
 * @param events         events appended per configuration
 * @param streams        streams the events are spread over (uniformly, seeded)
 * @param payloadBytes   payload bytes per event
 * @param producers      producer threads
 * @param inFlight       the in-flight depths to run, each for every target
 * @param targets        what to run at each depth, in order: "baseline", "store" or both (ratios need both)
 * @param dir            folder to work in, or null for a fresh temp folder under /var/tmp
 * @param json           print JSON instead of the table
 * @param seed           seed for stream choice and payload bytes
 * @param idleMillis     idle sample of the device's background writes before each configuration (0: none)
 * @param progressMillis interval of progress lines on stderr
 */
record BenchOptions(int events, int streams, int payloadBytes, int producers, List<Integer> inFlight,
                    List<String> targets, Path dir,
                    boolean json, long seed, long idleMillis, long progressMillis) {

    static final String USAGE = """
            usage: ringstore bench [--events N] [--streams N] [--payload BYTES] [--producers N]
                                   [--in-flight N[,N...]] [--dir DIR] [--seed N] [--idle-ms N]
                                   [--targets baseline,store] [--quick] [--json]
              Appends N events of BYTES payload over N streams (chosen at random, fixed seed) from
              N producer threads, each keeping the given number of appends in flight, first to a
              plain-file baseline (framing + one fdatasync per drained batch) and then to the store
              (default configuration: durability sync). Prints events/s, payload MB/s, append
              latency, events per force, force latency, device bytes written per payload byte
              (from /sys/dev/block/MAJ:MIN/stat of the folder's device) and store/baseline ratios.
              defaults: --events 1000000 --streams 10000 --payload 256 --producers 8
                        --in-flight 1,32 --dir (new temp folder under /var/tmp, removed after)
                        --seed 42 --idle-ms 2000
              --quick   100000 events (unless --events is given), 1 s idle samples
              --targets run only some targets (e.g. "store" under a profiler); ratios need both
              --json    machine-readable report on stdout (progress stays on stderr)
            ringstore bench --splitter [...]: the lazy splitter's numbers (issue 3); see
              ringstore bench --splitter --help
            """;

    BenchOptions {
        if (events < 1 || streams < 1 || payloadBytes < 0 || producers < 1) {
            throw new IllegalArgumentException("--events, --streams and --producers must be >= 1, --payload >= 0");
        }
        if (inFlight == null || inFlight.isEmpty() || inFlight.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("--in-flight needs one or more depths >= 1: " + inFlight);
        }
        if (idleMillis < 0 || progressMillis < 1) {
            throw new IllegalArgumentException("--idle-ms must be >= 0");
        }
        inFlight = List.copyOf(inFlight);
        if (targets == null || targets.isEmpty() || !List.of("baseline", "store").containsAll(targets)) {
            throw new IllegalArgumentException("--targets takes baseline, store or both: " + targets);
        }
        targets = List.copyOf(targets);
    }

    static BenchOptions parse(String[] args) throws Args.UsageException {
        Args a = Args.parse(args,
                Set.of("--events", "--streams", "--payload", "--producers", "--in-flight", "--dir", "--seed",
                        "--idle-ms", "--targets"),
                Set.of("--quick", "--json"));
        boolean quick = a.has("--quick");
        try {
            return new BenchOptions(
                    intValue(a, "--events", quick ? 100_000 : 1_000_000),
                    intValue(a, "--streams", 10_000),
                    intValue(a, "--payload", 256),
                    intValue(a, "--producers", 8),
                    depths(a.get("--in-flight", "1,32")),
                    List.of(a.get("--targets", "baseline,store").split(",")),
                    a.has("--dir") ? Path.of(a.get("--dir", null)) : null,
                    a.has("--json"),
                    a.getLong("--seed", 42),
                    a.getLong("--idle-ms", quick ? 1_000 : 2_000),
                    quick ? 1_000 : 2_000);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    private static int intValue(Args a, String key, int fallback) throws Args.UsageException {
        long v = a.getLong(key, fallback);
        if (v > Integer.MAX_VALUE) {
            throw new Args.UsageException(key + " too large: " + v);
        }
        return (int) v;
    }

    private static List<Integer> depths(String text) throws Args.UsageException {
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",")) {
            try {
                out.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw new Args.UsageException("--in-flight takes numbers separated by commas: " + text);
            }
        }
        return out;
    }
}
