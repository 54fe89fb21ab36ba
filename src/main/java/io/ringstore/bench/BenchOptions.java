package io.ringstore.bench;

import io.ringstore.cli.Args;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The benchmark's settings, checked once.
 *
 * @param events         events appended per configuration at in-flight depths above 1
 * @param eventsAtDepth1 the first this many of them at in-flight 1 (one force per few events is slow)
 * @param naiveEvents    the first this many go to the naive design (one fdatasync per event)
 * @param streams        streams the events are spread over (uniformly, seeded)
 * @param payloadBytes   payload bytes per event
 * @param producers      producer threads (connections, for the socket)
 * @param inFlight       the in-flight depths to run, each for every target
 * @param targets        what to run at each depth, in this order: some of {@link #TARGETS}
 * @param sweepStreams   stream counts of the sweep (empty: no sweep)
 * @param sweepEvents    events per sweep configuration
 * @param sweepTargets   what the sweep runs: some of "store", "socket", "sqlite"
 * @param reads          whole-stream reads timed per target while background appends go on (0: none)
 * @param ingestRate     background appends per second during those reads
 * @param fsyncWrites    4 KiB write + fdatasync samples of the storage probe (0: none)
 * @param warmupEvents   unmeasured appends each configuration takes first (at most a fifth of its events),
 *                       and unmeasured reads before the timed ones (a tenth of them)
 * @param warmupSeconds  how long each warm-up may go on past that while the compiler of the process
 *                       holding the data is busy (0: no longer; see {@link WarmUp})
 * @param dir            folder to work in, or null for a fresh temp folder under /var/tmp
 * @param sqliteJar      the SQLite JDBC driver's jar, or null to look for it
 * @param json           print JSON instead of the table
 * @param pi             the Pi profile: this JVM and the daemon's run on one CPU with a 64 MiB heap
 * @param daemonJavaOptions extra JVM options for the daemon child (a profiler, JFR), after the unit's
 * @param drainStallMillis how long a splitter drain may go without progress before the bench stops waiting
 * @param seed           seed for stream choice and payload bytes
 * @param idleMillis     idle sample of the device's background writes before each configuration (0: none)
 * @param progressMillis interval of progress lines on stderr
 * @param sdCard         the SD-card imitation ("IOPS:BYTES_PER_SECOND" write throttle on the daemon's
 *                       disk for the socket target and the two-board primaries), or null for none
 * @param inService      null, or age each store (in-process and daemon) until its log rolls into a
 *                       recycled segment before the row's warm-up, as a store in service does (see
 *                       {@link InService}): "cold" then drops the log's files from the page cache
 *                       before the window (a board's small cache no longer holds the spare), "warm" not
 */
record BenchOptions(int events, int eventsAtDepth1, int naiveEvents, int streams, int payloadBytes, int producers,
                    List<Integer> inFlight, List<String> targets, List<Integer> sweepStreams, int sweepEvents,
                    List<String> sweepTargets, int reads, double ingestRate, int fsyncWrites, int warmupEvents,
                    double warmupSeconds, Path dir,
                    Path sqliteJar, boolean json, boolean pi, List<String> daemonJavaOptions, long drainStallMillis, long seed, long idleMillis,
                    long progressMillis, String sdCard, String inService) {

    /** Every target, in the order they run: the storage limit first, the naive design last. */
    static final List<String> TARGETS = List.of("limit", "store", "socket", "sqlite", "naive");
    /** Run only when asked for (--targets socket,json): the JSON-lines socket beside the protobuf client. */
    static final List<String> OPTIONAL_TARGETS = List.of("json", "socket-multi", "pair-local", "pair-memory",
            "pair-durable");
    /**
     * Two boards on this machine (a primary daemon child with a standby daemon child, TLS over
     * loopback), by the primary's ack mode: {@code --replica-modes} names them.
     */
    static final java.util.Map<String, String> PAIR_TARGETS = java.util.Map.of("local", "pair-local",
            "replica-memory", "pair-memory", "replica-durable", "pair-durable");
    /** The order rows are run and printed in. */
    private static final List<String> ORDER = List.of("limit", "store", "socket", "socket-multi", "json", "pair-local",
            "pair-memory",
            "pair-durable", "sqlite", "naive");

    static final String USAGE = """
            usage: ringstore bench [--quick] [--json] [--pi] [options]
              Runs, one after another on the same folder and device, the same appends against:
                limit   the storage limit: framed records to a plain file, one fdatasync per batch
                store   ringstore in-process (default configuration: durability sync, splitter on)
                socket  ringstore through its Unix socket: a daemon child process, one connection
                        per producer
                sqlite  SQLite (WAL, synchronous=FULL, one writer thread, one transaction per batch,
                        UNIQUE(stream, version)); needs the sqlite-jdbc jar (see --sqlite-jar)
                naive   each append forced into its stream's own file
              at each in-flight depth; times whole-stream reads while background appends go on; sweeps
              the stream count; probes 4 KiB write + fdatasync latency. Prints events/s, MB/s, append
              and read p50/p99, device bytes written per payload byte (/sys/dev/block/MAJ:MIN/stat of
              the folder's device), peak RSS, and the ratios with the issue's targets.
              --events N            events per configuration (default 1000000; --quick 30000)
              --events-in-flight-1 N  the first N of them at in-flight 1 (default 100000; --quick 5000)
              --naive-events N      the first N go to the naive design (default 30000; --quick 1000)
              --streams N           streams (default 10000)        --payload BYTES (default 256)
              --producers N         producers / connections (default 8)
              --in-flight N[,N...]  depths (default 32,1)
              --targets LIST        some of limit,store,socket,socket-multi,json,sqlite,naive (default all
                                    but json and socket-multi, run only when named: json is the JSON-lines
                                    socket; socket-multi the socket with each producer sending what its
                                    window allows as one multi-stream append)
              --sweep-streams LIST  stream counts of the sweep (default 1,100,10000,100000; 0: no sweep)
              --sweep-events N      events per sweep run (default 200000; --quick 10000)
              --sweep-targets LIST  some of store,socket,sqlite (default store,sqlite); the sweep runs at
                                    the deepest --in-flight (--in-flight 1: blocking clients)
              --reads N             whole-stream reads per target (default 2000; --quick 200; 0: none)
              --ingest-rate N       background appends/s while reading (default 2000)
              --fsync-writes N      4 KiB fdatasync samples (default 1000; --quick 200)
              --warmup N            unmeasured appends first, at the run's depth, half to 100 other streams,
                                    half spread as the run's (up to 1,000 other streams), at least N, at
                                    most a fifth of a run's events (default 10000; --quick 3000); before
                                    the timed reads, a tenth of --reads untimed
              --warmup-seconds S    each warm-up goes on, in rounds, until the JIT compiler threads of the
                                    process holding the data (the daemon child, or this JVM) used under 5%
                                    of a CPU over a second, at most S seconds (default 15; --quick 0: N
                                    only): the daemon is a fresh JVM, and a daemon in service is warm
              --drain-stall-ms N    stop waiting for a splitter that makes no progress this long (paused by
                                    I/O pressure) (default 60000; --quick 15000); the row says so
              --daemon-java-options "OPTS"  more JVM options for the daemon child, e.g. a profiler:
                                    "-XX:StartFlightRecording=filename=/tmp/daemon.jfr,settings=profile"
              --dir DIR             folder (default: new temp folder under /var/tmp, removed after)
              --sqlite-jar FILE     org.xerial:sqlite-jdbc jar (default: class path, then
                                    bench-lib/sqlite-jdbc-*.jar beside ringstore.jar, then
                                    /usr/share/java/sqlite-jdbc.jar)
              --seed N (default 42) --idle-ms N (default 2000; --quick 200)
              --quick   small sizes: the whole run in under a minute
              --pi      a small board's constraints: the bench and the daemon run on one CPU (taskset),
                        -XX:ActiveProcessorCount=1, -Xmx64m
              --json    machine-readable report on stdout (progress stays on stderr)
              --in-service cold|warm  before each one-board store row's warm-up (store, socket,
                        socket-multi, json), append to other streams
                        until the store's log has rolled into a recycled segment (past retention's
                        512 MiB of split log with the defaults: a store in service is there after
                        its first hour or 512 MiB); the row then says how many of its rolls
                        recycled. cold: the log's files are dropped from the page cache before the
                        appends (a board's small cache has long lost the spare); warm: they are not
              --replica-modes LIST  two boards on this machine: some of local,replica-memory,replica-durable;
                                    per mode a standby daemon child and a primary daemon child acknowledging
                                    in that mode (TLS over loopback, keys made once in the folder), rows
                                    pair-local, pair-memory, pair-durable through the primary's socket
                                    (without --targets: the socket row, one daemon alone, and these)
              --sd-card-profile card|IOPS:BYTES_PER_SECOND  the SD-card imitation: the socket daemon and
                                    each two-board primary (not its standby) in a cgroup v1 blkio group
                                    throttling writes to the folder's disk (card: 200 IOPS, 10 MiB/s);
                                    needs root and a folder on a block device
            ringstore bench --splitter [...]: the lazy splitter's numbers (issue 3); see
              ringstore bench --splitter --help
            """;

    BenchOptions {
        if (events < 1 || eventsAtDepth1 < 1 || naiveEvents < 1 || streams < 1 || payloadBytes < 0 || producers < 1) {
            throw new IllegalArgumentException(
                    "--events, --events-in-flight-1, --naive-events, --streams and --producers must be >= 1, --payload >= 0");
        }
        if (inFlight == null || inFlight.isEmpty() || inFlight.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("--in-flight needs one or more depths >= 1: " + inFlight);
        }
        if (targets == null || targets.isEmpty() || !ORDER.containsAll(targets)) {
            throw new IllegalArgumentException("--targets takes some of " + String.join(",", ORDER) + ": " + targets);
        }
        if (sweepStreams.stream().anyMatch(n -> n < 1) || sweepEvents < 1
                || !List.of("store", "socket", "sqlite").containsAll(sweepTargets)) {
            throw new IllegalArgumentException("--sweep-streams counts and --sweep-events must be >= 1, "
                    + "--sweep-targets some of store,socket,sqlite");
        }
        if (reads < 0 || ingestRate <= 0 || fsyncWrites < 0 || warmupEvents < 0 || warmupSeconds < 0 || idleMillis < 0
                || progressMillis < 1 || drainStallMillis < 1) {
            throw new IllegalArgumentException(
                    "--reads, --fsync-writes, --warmup, --warmup-seconds and --idle-ms must be >= 0, --ingest-rate >= 1");
        }
        if (inService != null && !List.of("cold", "warm").contains(inService)) {
            throw new IllegalArgumentException("--in-service takes cold or warm: " + inService);
        }
        inFlight = List.copyOf(inFlight);
        daemonJavaOptions = List.copyOf(daemonJavaOptions);
        targets = ORDER.stream().filter(targets::contains).toList();
        sweepStreams = List.copyOf(sweepStreams);
        sweepTargets = List.copyOf(sweepTargets);
    }

    static BenchOptions parse(String[] args) throws Args.UsageException {
        Args a = Args.parse(args,
                Set.of("--events", "--events-in-flight-1", "--naive-events", "--streams", "--payload", "--producers",
                        "--in-flight", "--targets", "--sweep-streams", "--sweep-events", "--sweep-targets", "--reads",
                        "--ingest-rate", "--fsync-writes", "--warmup", "--warmup-seconds", "--drain-stall-ms", "--daemon-java-options", "--dir", "--sqlite-jar", "--seed", "--idle-ms",
                        "--replica-modes", "--sd-card-profile", "--in-service"),
                Set.of("--quick", "--json", "--pi"));
        boolean quick = a.has("--quick");
        try {
            String sweep = a.get("--sweep-streams", "1,100,10000,100000");
            return new BenchOptions(
                    intValue(a, "--events", quick ? 30_000 : 1_000_000),
                    intValue(a, "--events-in-flight-1", quick ? 5_000 : 100_000),
                    intValue(a, "--naive-events", quick ? 1_000 : 30_000),
                    intValue(a, "--streams", 10_000),
                    intValue(a, "--payload", 256),
                    intValue(a, "--producers", 8),
                    numbers("--in-flight", a.get("--in-flight", "32,1")),
                    targets(a),
                    sweep.equals("0") ? List.of() : numbers("--sweep-streams", sweep),
                    intValue(a, "--sweep-events", quick ? 10_000 : 200_000),
                    List.of(a.get("--sweep-targets", "store,sqlite").split(",")),
                    intValue(a, "--reads", quick ? 200 : 2_000),
                    intValue(a, "--ingest-rate", 2_000),
                    intValue(a, "--fsync-writes", quick ? 200 : 1_000),
                    intValue(a, "--warmup", quick ? 3_000 : 10_000),
                    a.getLong("--warmup-seconds", quick ? 0 : 15),
                    a.has("--dir") ? Path.of(a.get("--dir", null)) : null,
                    a.has("--sqlite-jar") ? Path.of(a.get("--sqlite-jar", null)) : null,
                    a.has("--json"),
                    a.has("--pi"),
                    a.has("--daemon-java-options") ? List.of(a.get("--daemon-java-options", "").trim().split("\\s+"))
                            : List.of(),
                    a.getLong("--drain-stall-ms", quick ? 15_000 : 60_000),
                    a.getLong("--seed", 42),
                    a.getLong("--idle-ms", quick ? 200 : 2_000),
                    quick ? 2_000 : 5_000,
                    a.has("--sd-card-profile") ? a.get("--sd-card-profile", null) : null,
                    a.has("--in-service") ? a.get("--in-service", null) : null);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    /** --targets, plus the two-board rows of --replica-modes (with only those: the socket row and them). */
    private static List<String> targets(Args a) throws Args.UsageException {
        if (!a.has("--replica-modes")) {
            return List.of(a.get("--targets", String.join(",", TARGETS)).split(","));
        }
        List<String> out = new ArrayList<>(List.of(a.get("--targets", "socket").split(",")));
        for (String mode : a.get("--replica-modes", "").split(",")) {
            String t = PAIR_TARGETS.get(mode.trim());
            if (t == null) {
                throw new Args.UsageException("--replica-modes takes some of local,replica-memory,replica-durable: " + mode);
            }
            out.add(t);
        }
        return out;
    }

    /** The primary's ack mode of a two-board target, or null for the others. */
    static String ackModeOf(String target) {
        return PAIR_TARGETS.entrySet().stream().filter(e -> e.getValue().equals(target)).map(java.util.Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    boolean runs(String target) {
        return targets.contains(target);
    }

    /** Events a target appends at this depth. */
    int eventsAt(String target, int depth) {
        int n = depth == 1 ? Math.min(events, eventsAtDepth1) : events;
        return target.equals("naive") ? Math.min(n, naiveEvents) : n;
    }

    /** Unmeasured appends before a run of {@code events}: {@link #warmupEvents}, at most a fifth of the run. */
    int warmupFor(int events) {
        return Math.min(warmupEvents, events / 5);
    }

    /** The depth at which reads are timed: the deepest. */
    int readDepth() {
        return inFlight.stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    private static int intValue(Args a, String key, int fallback) throws Args.UsageException {
        long v = a.getLong(key, fallback);
        if (v > Integer.MAX_VALUE) {
            throw new Args.UsageException(key + " too large: " + v);
        }
        return (int) v;
    }

    static List<Integer> numbers(String key, String text) throws Args.UsageException {
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
