package io.ringstore.powercut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.Subscription;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.FileStorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.AllSlice;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamSlice;
import io.ringstore.retention.RetentionOptions;
import io.ringstore.retention.StreamLimits;
import io.ringstore.server.ServerConfig;
import io.ringstore.server.SocketServer;
import io.ringstore.split.PressureReading;
import io.ringstore.split.SplitterOptions;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power cuts at random operations over the whole life of a store, each checked against what
 * was acknowledged before the cut (issue 13).
 *
 * <p>One "life" opens a store over {@link PowerCutIo} and runs a seeded random workload: appends
 * of every expected-version kind, pipelined so batches group, idempotent retries, segment rolls
 * (64 KiB segments), splitter passes by size and by window, limits (count, truncation), soft and
 * hard deletes that retention's rewrites act on, a disk budget (one life in eight), a full card
 * for a while (ENOSPC, part of a write done), clean stops and restarts. Armed cuts fire at random
 * operations through the life; each writes the state a card could hold then into its own folder,
 * with a copy of the ledger of acknowledgements at that moment. Each state is then opened
 * (without {@code --repair}) and checked: every acknowledged event reads back identical at its
 * version through a stream read and through {@code $all}; versions have no gap and no duplicate;
 * nothing past an acknowledged limit is visible; a share of the states is also read through the
 * socket's {@code $all} and stream subscriptions. Some states are cut again after a reopen and some
 * appends (an event seen after one recovery must survive a second cut), and some are first
 * "killed" (page cache kept, nothing more synced), restarted, appended to, then cut.
 *
 * <p>{@code -Dringstore.powercut.cuts=N} runs more cuts (default 1,000);
 * {@code -Dringstore.powercut.seed=S} replays one life. A failure names the seed and the cut.
 */
class PowerCutPropertyTest {
    private static final int CUTS = Integer.getInteger("ringstore.powercut.cuts", 1000);
    private static final String SEED = System.getProperty("ringstore.powercut.seed");

    @TempDir
    Path tmp;

    /** Where the time goes (ms): running the lives, materialising cuts, checking them. */
    static final java.util.concurrent.atomic.AtomicLong[] TIMES = {
            new java.util.concurrent.atomic.AtomicLong(), new java.util.concurrent.atomic.AtomicLong(),
            new java.util.concurrent.atomic.AtomicLong()};

    /**
     * Where lives run: a tmpfs when there is one. The model, not the disk, decides what a cut
     * keeps, so real syncs buy nothing here, and on a shared disk each syncfs can take 100 ms.
     */
    private Path scratch() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (scratch == null) {
            scratch = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "ringstore-powercut-") : tmp;
        }
        return scratch;
    }

    private Path scratch;

    @org.junit.jupiter.api.AfterEach
    void removeScratch() throws IOException {
        if (scratch != null && !scratch.equals(tmp)) {
            deleteTree(scratch);
        }
    }

    @Test
    void acknowledgedEventsSurviveEveryCut() throws Exception {
        long base = SEED != null ? Long.parseLong(SEED) : new Random().nextLong();
        int cuts = 0;
        int lives = 0;
        Map<String, Integer> mix = new HashMap<>();
        while (cuts < CUTS) {
            long seed = base + lives;
            lives++;
            Path lifeDir = scratch().resolve("life-" + lives);
            try {
                cuts += new Life(seed, lifeDir, mix).run();
            } catch (Throwable t) {
                throw new AssertionError("power-cut life failed: seed=" + seed
                        + " (replay: -Dringstore.powercut.seed=" + seed + " -Dringstore.powercut.cuts=1)", t);
            }
            deleteTree(lifeDir);
            if (SEED != null) {
                break;
            }
        }
        System.out.println("power cuts: " + cuts + " in " + lives + " lives, base seed " + base + "; cut before: " + mix
                + "; ms in lives (materialising included) " + TIMES[0] + ", materialising " + TIMES[1] + ", checking " + TIMES[2]);
        assertTrue(cuts >= Math.min(CUTS, 1), "cuts ran");
    }

    /** One store's life, its cuts, and their checks. */
    static final class Life {
        final long seed;
        final Random rnd;
        final Path dir;
        final Map<String, Integer> mix;
        final Ledger ledger = new Ledger();
        final List<Cut> cuts = new ArrayList<>();
        /** One life in eight runs at a small disk budget with big events: refusals, reclaim by budget. */
        final long budget;
        PowerCutIo io;

        Life(long seed, Path dir, Map<String, Integer> mix) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.dir = dir;
            this.mix = mix;
            // The smallest budget a store takes (two segments and 8 MiB), reached with big events.
            this.budget = rnd.nextInt(8) == 0 ? (8L << 20) + (192L << 10) : 0;
        }

        int run() throws Exception {
            Path data = dir.resolve("data");
            Files.createDirectories(data);
            io = new PowerCutIo(data);
            int restarts = 1 + rnd.nextInt(2);
            int opsPerRun = 60 + rnd.nextInt(120);
            armNext();
            long t0 = System.nanoTime();
            for (int r = 0; r < restarts; r++) {
                try (RingStore store = RingStore.open(config(data, io, budget))) {
                    Workload w = new Workload(store, ledger, rnd, budget > 0 ? 48 << 10 : 0);
                    w.full = io;
                    w.run(opsPerRun);
                    // The running store too, before any cut: a failed write, a full card, a
                    // rewrite or a rebuild that loses an acknowledged event shows here, at the
                    // run that did it, not only in the states cut from it later.
                    verify(store, ledger.snapshot(), "live store at the end of run " + (r + 1));
                }
            }
            io.cutBefore(Long.MAX_VALUE / 2, (op, kind) -> { }); // disarmed
            long t1 = System.nanoTime();
            TIMES[0].addAndGet((t1 - t0) / 1_000_000);
            int checked = 0;
            for (Cut cut : cuts) {
                cut.check();
                checked++;
            }
            TIMES[2].addAndGet((System.nanoTime() - t1) / 1_000_000);
            return checked;
        }

        /** Arms the next cut a random number of operations ahead. */
        void armNext() {
            if (rnd.nextBoolean()) {
                io.cutBefore(1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 400), this::cut);
            } else {
                io.cutBefore(1 + rnd.nextInt(12), kind -> !kind.equals("mmap-write"), this::cut);
            }
        }

        /** Runs on the thread that makes operation {@code op}, before it takes effect. */
        void cut(long op, String kind) {
            Path target = dir.resolve("cut-" + cuts.size());
            Follow follow = Follow.values()[rnd.nextInt(8) < 6 ? 0 : 1 + rnd.nextInt(2)];
            PowerCutIo killed = null;
            PowerCutIo.CutStyle style = follow == Follow.KILL_THEN_CUT ? PowerCutIo.CutStyle.EVERYTHING
                    : PowerCutIo.CutStyle.random(rnd);
            long m0 = System.nanoTime();
            PowerCutIo.CutReport report = null;
            if (follow == Follow.KILL_THEN_CUT) {
                try {
                    killed = io.killCopy(target);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            } else {
                report = io.materialize(target, rnd, style);
            }
            TIMES[1].addAndGet((System.nanoTime() - m0) / 1_000_000);
            String what = kind + "@" + Thread.currentThread().getName().replaceAll("[0-9-]+$", "");
            synchronized (mix) {
                mix.merge(what, 1, Integer::sum);
            }
            cuts.add(new Cut(target, killed, ledger.snapshot(), op, what, follow, style, report, rnd.nextLong(),
                    budget));
            armNext();
        }
    }

    static StoreConfig config(Path data, io.ringstore.log.StorageIo io) {
        return config(data, io, 0);
    }

    /** The lives' store: small segments, eager splitter and retention; {@code budget} 0 for none. */
    static StoreConfig config(Path data, io.ringstore.log.StorageIo io, long budget) {
        return StoreConfig.defaults(data).withSegmentSize(64 << 10).withIo(io)
                .withPressureGauge(() -> PressureReading.CALM)
                .withSplitter(SplitterOptions.defaults().withWindow(4096, 5).withRetention(0, 0))
                .withRetention(RetentionOptions.defaults().withCompactInterval(20).withBudget(budget, 0, 80));
    }

    /** What was acknowledged: per stream, version -> event, and acknowledged limits. */
    static final class Ledger {
        final Map<String, Map<Long, Acked>> events = new ConcurrentHashMap<>();
        final Map<String, StreamLimits> limits = new ConcurrentHashMap<>();
        /** Streams with a limits change sent and not yet answered (its outcome is open). */
        final Map<String, Integer> pendingLimits = new ConcurrentHashMap<>();
        /** Streams soft-deleted or with more than one limits change: which events are visible is open. */
        final Map<String, Boolean> looseStreams = new ConcurrentHashMap<>();
        /** Streams whose hard delete was acknowledged: nothing of them may be read again. */
        final Map<String, Boolean> hardDeleted = new ConcurrentHashMap<>();

        boolean loose(String stream) {
            return pendingLimits.getOrDefault(stream, 0) > 0 || looseStreams.containsKey(stream);
        }

        synchronized void acked(String stream, AppendResult r, List<EventData> sent) {
            Map<Long, Acked> s = events.computeIfAbsent(stream, k -> new ConcurrentHashMap<>());
            for (int i = 0; i < sent.size(); i++) {
                s.put(r.firstVersion() + i, new Acked(sent.get(i).eventId(), sent.get(i).data()));
            }
        }

        synchronized Ledger snapshot() {
            Ledger copy = new Ledger();
            events.forEach((k, v) -> copy.events.put(k, new HashMap<>(v)));
            copy.limits.putAll(limits);
            copy.pendingLimits.putAll(pendingLimits);
            copy.looseStreams.putAll(looseStreams);
            copy.hardDeleted.putAll(hardDeleted);
            return copy;
        }
    }

    record Acked(byte[] eventId, byte[] data) {}

    /** The random workload of one run of a store. */
    static final class Workload {
        final RingStore store;
        final Ledger ledger;
        final Random rnd;
        final String[] streams;
        final Map<String, Long> known = new HashMap<>();
        /** Extra payload bytes per event (big events fill a budget life's disk). */
        final int bulk;
        /** The card model, to fill it for a while; null where the store does not run over one. */
        PowerCutIo full;

        Workload(RingStore store, Ledger ledger, Random rnd) {
            this(store, ledger, rnd, 0);
        }

        Workload(RingStore store, Ledger ledger, Random rnd, int bulk) {
            this.bulk = bulk;
            this.store = store;
            this.ledger = ledger;
            this.rnd = rnd;
            this.streams = new String[3 + rnd.nextInt(6)];
            for (int i = 0; i < streams.length; i++) {
                streams[i] = "s" + i;
            }
        }

        void run(int ops) throws Exception {
            List<CompletableFuture<?>> inFlight = new ArrayList<>();
            for (int i = 0; i < ops; i++) {
                String stream = streams[rnd.nextInt(streams.length)];
                int kind = rnd.nextInt(100);
                if (kind < 70) {
                    inFlight.add(append(stream, ExpectedVersion.ANY, events(stream)));
                } else if (kind < 80) {
                    // Expected-version kinds: whatever the answer, only an acknowledgement counts.
                    long v = lastVersion(store, stream);
                    ExpectedVersion ev = switch (rnd.nextInt(3)) {
                        case 0 -> v < 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(v);
                        case 1 -> ExpectedVersion.STREAM_EXISTS;
                        default -> ExpectedVersion.NO_STREAM;
                    };
                    inFlight.add(append(stream, ev, events(stream)));
                } else if (kind < 86) {
                    // An idempotent retry: the same event ids again must not make new versions.
                    List<EventData> batch = events(stream);
                    drain(List.of(append(stream, ExpectedVersion.ANY, batch)));
                    inFlight.add(append(stream, ExpectedVersion.ANY, batch));
                } else if (kind < 92) {
                    StreamLimits limits = rnd.nextBoolean() ? new StreamLimits(1 + rnd.nextInt(8), -1, -1, false)
                            : new StreamLimits(-1, -1, Math.max(0, known.getOrDefault(stream, 0L) - rnd.nextInt(4)), false);
                    synchronized (ledger) {
                        ledger.pendingLimits.merge(stream, 1, Integer::sum);
                    }
                    inFlight.add(store.setLimits(stream, limits).handle((r, e) -> {
                        synchronized (ledger) {
                            if (e == null && ledger.limits.put(stream, limits) != null) {
                                ledger.looseStreams.put(stream, true);
                            }
                            ledger.pendingLimits.merge(stream, -1, Integer::sum);
                        }
                        return null;
                    }));
                } else if (kind < 94 || (kind == 94 && rnd.nextInt(4) == 0)) {
                    boolean hard = kind == 94;
                    synchronized (ledger) {
                        ledger.pendingLimits.merge(stream, 1, Integer::sum);
                    }
                    inFlight.add(store.deleteStream(stream, hard).handle((r, e) -> {
                        if (hard && e == null) {
                            ledger.hardDeleted.put(stream, true);
                        }
                        synchronized (ledger) {
                            ledger.looseStreams.put(stream, true);
                            ledger.pendingLimits.merge(stream, -1, Integer::sum);
                        }
                        return null;
                    }));
                } else if (kind == 99 && full != null && rnd.nextBoolean()) {
                    // A full card for a while: segment rolls, stream-file writes and checkpoints
                    // fail with ENOSPC (part written), appends get STORAGE_FULL; then space returns.
                    drain(inFlight);
                    full.full(true);
                    for (int j = 0; j < 5; j++) {
                        inFlight.add(append(streams[rnd.nextInt(streams.length)], ExpectedVersion.ANY,
                                events(stream)));
                    }
                    drain(inFlight);
                    Thread.sleep(rnd.nextInt(20));
                    full.full(false);
                } else {
                    // Let the splitter and retention run: window ripeness and rewrites.
                    drain(inFlight);
                    Thread.sleep(rnd.nextInt(15));
                }
                if (inFlight.size() > rnd.nextInt(16)) {
                    drain(inFlight);
                }
            }
            drain(inFlight);
        }

        private CompletableFuture<AppendResult> append(String stream, ExpectedVersion ev, List<EventData> batch) {
            return store.append(stream, ev, batch).whenComplete((r, e) -> {
                if (e == null) {
                    ledger.acked(stream, r, batch);
                    known.merge(stream, r.lastVersion(), Math::max);
                }
            });
        }

        private List<EventData> events(String stream) {
            int n = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(6) : 0);
            List<EventData> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] id = new byte[EventData.EVENT_ID_LENGTH];
                rnd.nextBytes(id);
                byte[] data = new byte[16 + rnd.nextInt(rnd.nextInt(10) == 0 ? 3000 : 200) + (bulk > 0 ? rnd.nextInt(bulk) : 0)];
                rnd.nextBytes(data);
                ByteBuffer.wrap(data).putLong(rnd.nextLong());
                out.add(new EventData(id, "t", data, new byte[0]));
            }
            return out;
        }

        private static void drain(List<? extends CompletableFuture<?>> inFlight) {
            for (CompletableFuture<?> f : inFlight) {
                try {
                    f.join();
                } catch (RuntimeException e) {
                    // wrong expected version and the like: not acknowledged, nothing to check
                }
            }
            if (inFlight instanceof ArrayList<?> list) {
                list.clear();
            }
        }
    }

    /** What a cut is followed by. */
    enum Follow {
        /** Open and check. */
        CHECK,
        /** Open, check, append more, cut again, check that what the first recovery showed survived. */
        SECOND_CUT,
        /** A kill, not a cut (the page cache survives, nothing more is synced); restart, append, cut. */
        KILL_THEN_CUT
    }

    /** One materialised cut: the folder, the ledger then, and how it was cut. */
    record Cut(Path data, PowerCutIo killed, Ledger ledger, long op, String kind, Follow follow, PowerCutIo.CutStyle style,
               PowerCutIo.CutReport report, long followSeed, long budget) {

        void check() throws Exception {
            String where = follow + (budget > 0 ? " (budget " + budget + ")" : "") + " at operation " + op + " (" + kind + ") style=" + style + " report=" + report;
            Random rnd = new Random(followSeed);
            switch (follow) {
                case CHECK -> {
                    try (RingStore store = open(data, new FileStorageIo(), where)) {
                        Map<String, List<LogRecord>> read = verify(store, ledger, where);
                        if (rnd.nextInt(4) == 0) {
                            verifySubscriptions(store, read, data.resolveSibling(data.getFileName() + ".sock"), where);
                        }
                    }
                }
                case SECOND_CUT -> followUp(data, new PowerCutIo(data), rnd, where, true);
                case KILL_THEN_CUT -> followUp(data, killed, rnd, where, false);
            }
        }

        /**
         * Opens {@code live} over {@code model}, checks it, appends more, cuts at a random
         * operation, opens the cut and checks it against everything acknowledged by then.
         */
        private void followUp(Path live, PowerCutIo model, Random rnd, String where, boolean seenMustSurvive)
                throws Exception {
            Ledger more = ledger.snapshot();
            Path cutDir = live.resolveSibling(live.getFileName() + "-then-cut");
            Ledger[] atCut = new Ledger[1];
            Map<String, List<LogRecord>> seen;
            try (RingStore store = open(live, model, where + " (reopen)")) {
                seen = verify(store, ledger, where + " (reopen)");
                model.cutBefore(1 + rnd.nextInt(120), (op2, kind2) -> {
                    model.materialize(cutDir, rnd, PowerCutIo.CutStyle.random(rnd));
                    atCut[0] = more.snapshot();
                });
                new Workload(store, more, rnd).run(10 + rnd.nextInt(40));
            }
            if (atCut[0] == null) {
                model.materialize(cutDir, rnd, PowerCutIo.CutStyle.random(rnd));
                atCut[0] = more.snapshot();
            }
            String again = where + ", then a cut after the restart";
            try (RingStore store = open(cutDir, new FileStorageIo(), again)) {
                Map<String, List<LogRecord>> seenAgain = verify(store, atCut[0], again);
                if (!seenMustSurvive) {
                    return;
                }
                seen.forEach((stream, records) -> {
                    if (atCut[0].loose(stream)) {
                        return;
                    }
                    Map<Long, LogRecord> now = new HashMap<>();
                    List<LogRecord> readAgain = seenAgain.getOrDefault(stream, List.of());
                    readAgain.forEach(r -> now.put(r.getVersion(), r));
                    long firstAgain = readAgain.isEmpty() ? Long.MAX_VALUE : readAgain.get(0).getVersion();
                    boolean limited = atCut[0].limits.containsKey(stream);
                    for (LogRecord r : records) {
                        if (limited && r.getVersion() < firstAgain) {
                            continue; // later appends moved the stream's count limit past it
                        }
                        LogRecord n = now.get(r.getVersion());
                        assertTrue(n != null && n.getEventId().equals(r.getEventId()), again + ": event "
                                + stream + "@" + r.getVersion() + " read back after the first recovery is "
                                + (n == null ? "gone" : "a different event") + " after the second cut (position "
                                + r.getPosition() + "; first recovery read " + describe(records) + ", second "
                                + describe(seenAgain.getOrDefault(stream, List.of())) + ")");
                    }
                });
            }
        }

        private RingStore open(Path data, io.ringstore.log.StorageIo io, String where) {
            try {
                return RingStore.open(config(data, io, budget));
            } catch (IOException | RuntimeException e) {
                throw new AssertionError(where + ": the store did not open without --repair: " + e, e);
            }
        }
    }

    /**
     * Checks a recovered store against a ledger; returns what each stream read back (visible
     * events, in version order).
     */
    static Map<String, List<LogRecord>> verify(RingStore store, Ledger ledger, String where) {
        Map<String, List<LogRecord>> read = new HashMap<>();
        for (var e : ledger.events.entrySet()) {
            String stream = e.getKey();
            List<LogRecord> records = readWhole(store, stream);
            if (ledger.hardDeleted.containsKey(stream)) {
                assertTrue(records.isEmpty(), where + ": hard-deleted stream " + stream + " reads back "
                        + records.size() + " events");
                continue;
            }
            read.put(stream, records);
            for (int i = 1; i < records.size(); i++) {
                assertEquals(records.get(i - 1).getVersion() + 1, records.get(i).getVersion(),
                        where + ": stream " + stream + " has a gap or a duplicate at index " + i);
            }
            long last = records.isEmpty() ? lastVersion(store, stream) : records.get(records.size() - 1).getVersion();
            long first = records.isEmpty() ? last + 1 : records.get(0).getVersion();
            boolean loose = ledger.loose(stream);
            StreamLimits limits = ledger.limits.get(stream);
            long lastAcked = e.getValue().keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
            long tableLast = lastVersion(store, stream);
            // A delete whose answer had not come (its outcome is open) may have survived the cut.
            assertTrue(loose || tableLast >= lastAcked, where + ": stream " + stream + " last version " + tableLast
                    + " is below the last acknowledged " + lastAcked);
            long firstVisible = limits == null ? 0 : limits.firstVisible(tableLast);
            if (!loose) {
                assertTrue(records.isEmpty() || first >= firstVisible, where + ": stream " + stream + " shows version "
                        + first + " past its limit " + limits + " (first visible " + firstVisible + ")");
            }
            for (var a : e.getValue().entrySet()) {
                long v = a.getKey();
                if ((v < first || records.isEmpty()) && loose || v < first && v < firstVisible) {
                    continue; // hidden by a limit, or by a delete whose outcome is open
                }
                assertTrue(v >= first && v <= last, where + ": acknowledged event " + stream + "@" + v
                        + " is missing (stream reads back versions " + first + ".." + last + ", limits "
                        + limits + ")");
                LogRecord r = records.get((int) (v - first));
                assertTrue(Arrays.equals(a.getValue().data(), r.getData().toByteArray())
                                && Arrays.equals(a.getValue().eventId(), r.getEventId().toByteArray()),
                        where + ": event " + stream + "@" + v + " differs from what was acknowledged");
            }
        }
        // $all (what the log still holds; split segments are reclaimed from the front): the same
        // events as the stream reads, once each, in version order per stream.
        Map<String, Map<Long, LogRecord>> inAll = new HashMap<>();
        long firstInAll = Long.MAX_VALUE;
        long position = 0;
        for (int pages = 0; pages < 100_000; pages++) {
            AllSlice slice;
            try {
                slice = store.readAll(position, 500);
            } catch (io.ringstore.log.PositionReclaimedException e) {
                // The splitter reclaimed the page's segment meanwhile: read $all again from its start.
                inAll.clear();
                firstInAll = Long.MAX_VALUE;
                position = 0;
                continue;
            }
            for (LogRecord r : slice.records()) {
                firstInAll = Math.min(firstInAll, r.getPosition());
                if (!read.containsKey(r.getStream())) {
                    continue;
                }
                Map<Long, LogRecord> s = inAll.computeIfAbsent(r.getStream(), k -> new HashMap<>());
                assertTrue(s.put(r.getVersion(), r) == null, where + ": $all repeats " + r.getStream() + "@" + r.getVersion());
            }
            position = slice.next();
            if (slice.end()) {
                break;
            }
        }
        for (var e : read.entrySet()) {
            Map<Long, LogRecord> all = inAll.getOrDefault(e.getKey(), Map.of());
            Map<Long, LogRecord> byVersion = new HashMap<>();
            for (LogRecord r : e.getValue()) {
                byVersion.put(r.getVersion(), r);
                if (r.getPosition() >= firstInAll) {
                    LogRecord a = all.get(r.getVersion());
                    assertTrue(a != null && a.getEventId().equals(r.getEventId()), where + ": " + e.getKey() + "@"
                            + r.getVersion() + " (position " + r.getPosition() + ") is in a stream read but "
                            + (a == null ? "not in $all" : "another event in $all"));
                }
            }
            for (LogRecord a : all.values()) {
                LogRecord r = byVersion.get(a.getVersion());
                assertTrue(r != null || ledger.loose(e.getKey()), where + ": $all shows " + e.getKey() + "@"
                        + a.getVersion() + " which a stream read does not");
            }
        }
        return read;
    }

    /** The stream's last version, -1 when it does not exist (or is deleted: its events are hidden). */
    static long lastVersion(RingStore store, String stream) {
        try {
            return store.readStream(stream, Long.MAX_VALUE, 1, Direction.BACKWARD).lastVersion();
        } catch (RingStoreException e) {
            if (e.code() == ErrorCode.STREAM_NOT_FOUND || e.code() == ErrorCode.STREAM_DELETED) {
                return -1;
            }
            throw e;
        }
    }

    /**
     * Reads the recovered store through the socket's subscriptions, as a client would: a {@code $all}
     * subscription from the start must deliver, once each, every event a stream read showed that
     * the log still holds, and a stream subscription from version 0 exactly what the stream read
     * showed.
     */
    static void verifySubscriptions(RingStore store, Map<String, List<LogRecord>> read, Path socket, String where)
            throws Exception {
        try (SocketServer server = SocketServer.start(store, ServerConfig.defaults(socket));
             RingStoreClient client = RingStoreClient.connect(socket)) {
            List<RecordedEvent> all = collect(client, "$all", SubscribeFrom.START, where);
            Map<String, Map<Long, RecordedEvent>> byStream = new HashMap<>();
            long firstInAll = Long.MAX_VALUE;
            for (RecordedEvent e : all) {
                firstInAll = Math.min(firstInAll, e.position());
                RecordedEvent twice = byStream.computeIfAbsent(e.stream(), k -> new HashMap<>()).put(e.version(), e);
                assertTrue(twice == null, where + ": the $all subscription delivered " + e.stream() + "@" + e.version() + " twice");
            }
            for (var e : read.entrySet()) {
                Map<Long, RecordedEvent> got = byStream.getOrDefault(e.getKey(), Map.of());
                for (LogRecord r : e.getValue()) {
                    if (r.getPosition() < firstInAll) {
                        continue; // reclaimed from the log: a subscription from the start begins after it
                    }
                    RecordedEvent g = got.get(r.getVersion());
                    assertTrue(g != null && Arrays.equals(g.eventId(), r.getEventId().toByteArray()), where + ": "
                            + e.getKey() + "@" + r.getVersion() + " is in a stream read but not in the $all subscription");
                }
            }
            // A stream with events read back (one whose delete's outcome is open may be gone).
            String stream = read.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey)
                    .sorted().findFirst().orElse(null);
            if (stream != null) {
                List<RecordedEvent> one = collect(client, stream, SubscribeFrom.fromVersion(0), where);
                List<LogRecord> expected = read.get(stream);
                assertEquals(expected.size(), one.size(), where + ": a subscription to " + stream
                        + " and a stream read differ in length");
                for (int i = 0; i < one.size(); i++) {
                    assertTrue(one.get(i).version() == expected.get(i).getVersion() && Arrays.equals(one.get(i).eventId(),
                            expected.get(i).getEventId().toByteArray()), where + ": a subscription to " + stream
                            + " and a stream read differ at index " + i);
                }
            }
        }
    }

    /**
     * Subscribes and collects events until the subscription says it has caught up; starts again
     * when retention reclaimed the segment being read. The lives reclaim every split segment at
     * once (log retention 0), so after a cut the recovering splitter's catch-up reclaims segment
     * after segment right ahead of a subscription from the start, for as long as its backlog lasts
     * (19 segments in one life): a fixed number of attempts was too few. Nothing is written while
     * this runs, so the reclaiming ends with the backlog; a store that kept reclaiming for a minute
     * fails here.
     */
    private static List<RecordedEvent> collect(RingStoreClient client, String stream, SubscribeFrom from, String where)
            throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        for (int attempt = 1; ; attempt++) {
            RingStoreException reclaimed;
            try {
                return collectOnce(client, stream, from, where);
            } catch (RingStoreException e) {
                if (e.code() != ErrorCode.POSITION_RECLAIMED) {
                    throw e;
                }
                reclaimed = e;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(where + ": a subscription to " + stream + " was still reclaimed from under it"
                        + " after " + attempt + " attempts in 60 s", reclaimed);
            }
            Thread.sleep(20); // leave the core to the splitter whose backlog this waits out
        }
    }

    private static List<RecordedEvent> collectOnce(RingStoreClient client, String stream, SubscribeFrom from,
                                                   String where) throws InterruptedException {
        List<RecordedEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch caughtUp = new java.util.concurrent.CountDownLatch(1);
        RuntimeException[] ended = new RuntimeException[1];
        Subscription sub = client.subscribe(stream, from, new SubscriptionListener() {
            @Override
            public void onEvent(RecordedEvent event) {
                events.add(event);
            }

            @Override
            public void onCaughtUp(long position) {
                caughtUp.countDown();
            }

            @Override
            public void onEnd(RuntimeException error) {
                ended[0] = error;
                caughtUp.countDown();
            }
        });
        assertTrue(caughtUp.await(30, java.util.concurrent.TimeUnit.SECONDS), where + ": subscription to " + stream
                + " did not catch up in 30 s");
        if (ended[0] instanceof RingStoreException e && e.code() == ErrorCode.POSITION_RECLAIMED) {
            throw e;
        }
        assertTrue(ended[0] == null, where + ": subscription to " + stream + " ended: " + ended[0]);
        sub.close();
        return new ArrayList<>(events);
    }

    static String describe(List<LogRecord> records) {
        StringBuilder b = new StringBuilder();
        for (LogRecord r : records) {
            b.append(r.getVersion()).append('@').append(r.getPosition()).append(' ');
        }
        return b.toString().strip();
    }

    static List<LogRecord> readWhole(RingStore store, String stream) {
        List<LogRecord> out = new ArrayList<>();
        long from = 0;
        while (true) {
            StreamSlice s;
            try {
                s = store.readStream(stream, from, 200, Direction.FORWARD);
            } catch (RingStoreException e) {
                if (e.code() == ErrorCode.STREAM_NOT_FOUND || e.code() == ErrorCode.STREAM_DELETED) {
                    return out;
                }
                throw e;
            }
            out.addAll(s.events());
            if (s.endOfStream() || s.nextVersion() <= from) {
                return out;
            }
            from = s.nextVersion();
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
