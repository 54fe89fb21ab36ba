package io.ringstore.bench;

import io.ringstore.cli.Args;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.PromoteResponse;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ringstore bench --replica-failover}: issue 15's two timings that are not append rows,
 * with two daemon children on this machine ({@link ReplicaPair}).
 * <ul>
 * <li>Promote: the primary is SIGKILLed, {@code promote} is asked of the standby, and appends
 * are sent to it until one is acknowledged; timed from the promote request. In {@code local} the
 * promoted board acknowledges alone (promote is forced there: a standby of a local primary cannot
 * know it holds everything acknowledged, and refuses otherwise). In {@code replica-memory} it needs a standby: the old
 * primary is restarted right after the promote answer (a board rebooting), finds the new epoch,
 * follows, and the first append acknowledged in replica-memory ends the timing (it holds the old
 * primary's JVM start).
 * <li>Catch-up: the primary alone (standby configured, not running; durability none, splitter
 * off, so nothing of its log is reclaimed) takes {@code --catch-up-mb} of big events; then the
 * standby starts empty, and its held position is polled until it holds the primary's end.
 * </ul>
 */
final class ReplicaFailoverBench {
    static final String USAGE = """
            usage: ringstore bench --replica-failover [--promote-runs N] [--catch-up-mb N] [--dir DIR] [--pi]
              two daemon children on this machine (TLS over loopback):
              promote: SIGKILL the primary, promote the standby, time until the new primary acknowledges
                an append, in local and in replica-memory (old primary restarted to follow), N runs each
                (default 3; 0: none)
              catch-up: a standby started empty while the primary holds N MB of log (default 1024; 0: none);
                its held position is polled until it holds the primary's end: MB/s
              --catch-up-event-bytes N  payload of the generating events (default 32000)
            """;
    private static final long CALL_SECONDS = 60;

    private final PrintStream out;
    private final PrintStream log;
    private final int promoteRuns;
    private final long catchUpBytes;
    private final int eventBytes;
    private final boolean pi;
    private final Path dirOption;

    ReplicaFailoverBench(String[] args, PrintStream out, PrintStream log) throws Args.UsageException {
        Args a = Args.parse(args, Set.of("--promote-runs", "--catch-up-mb", "--catch-up-event-bytes", "--dir"),
                Set.of("--replica-failover", "--pi"));
        this.promoteRuns = (int) a.getLong("--promote-runs", 3);
        this.catchUpBytes = a.getLong("--catch-up-mb", 1024) * 1024 * 1024;
        this.eventBytes = (int) a.getLong("--catch-up-event-bytes", 32_000);
        this.pi = a.has("--pi");
        this.dirOption = a.has("--dir") ? Path.of(a.get("--dir", null)) : null;
        this.out = out;
        this.log = log;
    }

    /** The promote timings per mode (ms to the first acknowledged append), then the catch-up. */
    record Result(List<Double> promoteLocalMillis, List<Double> promoteMemoryMillis, double catchUpMegabytes,
                  double catchUpSeconds, double catchUpMegabytesPerSecond) {}

    Result run() throws IOException, InterruptedException {
        Path root = dirOption == null ? BenchRunner.createTempFolder(log) : Files.createDirectories(dirOption);
        try {
            Path keys = ReplicaPair.makeKeys(root.resolve("keys"));
            List<Double> local = new ArrayList<>();
            List<Double> memory = new ArrayList<>();
            for (int i = 0; i < promoteRuns; i++) { // alternated, so neither mode always goes first
                local.add(promote(root.resolve("promote-local-" + i), keys, "local"));
                memory.add(promote(root.resolve("promote-memory-" + i), keys, "replica-memory"));
            }
            double[] catchUp = catchUpBytes > 0 ? catchUp(root.resolve("catch-up"), keys) : new double[] {0, 0};
            Result r = new Result(local, memory, catchUp[0], catchUp[1], catchUp[1] > 0 ? catchUp[0] / catchUp[1] : 0);
            print(r);
            return r;
        } finally {
            if (dirOption == null) {
                BenchRunner.deleteTree(root);
            }
        }
    }

    private double promote(Path dir, Path keys, String mode) throws IOException, InterruptedException {
        ReplicaPair pair = ReplicaPair.start(dir, keys, mode, mode, pi, List.of(), List.of(), null);
        try (RingStoreClient p = RingStoreClient.connect(pair.primary.socket());
             RingStoreClient s = RingStoreClient.connect(pair.standby.socket())) {
            byte[] payload = new byte[256];
            for (int i = 0; i < 100; i++) {
                AppendResult r = await(p.append("before-" + (i % 10), ExpectedVersion.ANY,
                        List.of(EventData.of(Workload.EVENT_TYPE, payload))));
                check(r, mode);
            }
            pair.primary.kill();
            long t0 = System.nanoTime();
            // In local the standby cannot know it holds all the primary acknowledged, and refuses
            // unless forced (the operator accepting that loss); in replica-memory it promotes safely.
            PromoteResponse promoted = await(s.promote(mode.equals("local")));
            long answered = System.nanoTime();
            DaemonChild restarted = null;
            if (!mode.equals("local")) {
                // The old board comes back as it was configured (primary), finds epoch 1 and follows.
                restarted = pair.startPrimary(dir.resolve("primary"), mode, pi, List.of(), List.of(), null);
                pair.primary = restarted;
            }
            long restartedAt = System.nanoTime();
            int attempts = 0;
            AppendResult first = null;
            String lastError = "";
            long deadline = t0 + 120_000_000_000L;
            while (first == null && System.nanoTime() < deadline) {
                attempts++;
                try {
                    first = s.append("after", ExpectedVersion.ANY, List.of(EventData.of(Workload.EVENT_TYPE, payload)))
                            .get(CALL_SECONDS, TimeUnit.SECONDS);
                } catch (Exception e) {
                    lastError = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
                    Thread.sleep(1);
                }
            }
            long t1 = System.nanoTime();
            if (first == null) {
                throw new IOException("the promoted board acknowledged no append within 120 s: " + lastError);
            }
            check(first, mode);
            double ms = (t1 - t0) / 1e6;
            log.printf(Locale.ROOT, "promote %s: answered in %.1f ms (epoch %d, %s)%s; first append acknowledged (%s) "
                            + "%.1f ms after the promote request, %d attempts%s%n", mode, (answered - t0) / 1e6,
                    promoted.getEpoch(), promoted.getMessage(),
                    restarted == null ? "" : String.format(Locale.ROOT, "; old primary restarted and ready after %.1f ms",
                            (restartedAt - t0) / 1e6),
                    first.ackMode(), ms, attempts, lastError.isEmpty() ? "" : " (last refusal: " + lastError + ")");
            return ms;
        } finally {
            pair.close();
            BenchRunner.deleteTree(dir);
        }
    }

    private static void check(AppendResult r, String mode) throws IOException {
        if (!r.ackMode().configName().equals(mode)) {
            throw new IOException("append acknowledged in " + r.ackMode() + ", not " + mode);
        }
    }

    /** {MB shipped, seconds from the standby's start to holding the primary's end}. */
    private double[] catchUp(Path dir, Path keys) throws IOException, InterruptedException {
        ReplicaPair pair = ReplicaPair.ports(keys);
        try {
            List<String> primaryFlags = List.of("--durability", "none", "--splitter", "off", "--segment-size", "256m");
            pair.primary = pair.startPrimary(dir.resolve("primary"), "local", pi, List.of(), primaryFlags, null);
            long end;
            try (RingStoreClient p = RingStoreClient.connect(pair.primary.socket())) {
                long t0 = System.nanoTime();
                Semaphore window = new Semaphore(64);
                AtomicReference<Throwable> failed = new AtomicReference<>();
                byte[] payload = new byte[eventBytes];
                new java.util.SplittableRandom(42).nextBytes(payload);
                long n = catchUpBytes / eventBytes;
                for (long i = 0; i < n && failed.get() == null; i++) {
                    window.acquire();
                    CompletableFuture<AppendResult> f = p.append("big-" + (i % 64), ExpectedVersion.ANY,
                            List.of(EventData.of(Workload.EVENT_TYPE, payload)));
                    f.whenComplete((r, e) -> {
                        if (e != null) {
                            failed.compareAndSet(null, e);
                        }
                        window.release();
                    });
                }
                window.acquire(64);
                if (failed.get() != null) {
                    throw new IOException("generating the log failed: " + failed.get());
                }
                end = ReplicaPair.status(p).getCommittedPosition();
                log.printf(Locale.ROOT, "catch-up: primary holds %,d log bytes (%,d events of %,d B) after %.1f s%n", end,
                        n, eventBytes, (System.nanoTime() - t0) / 1e9);
            }
            long started = System.nanoTime();
            pair.standby = pair.startStandby(dir.resolve("standby"), "local", pi, List.of(), List.of("--segment-size", "256m"));
            long ready = System.nanoTime();
            long firstProgress = -1;
            long held = 0;
            try (RingStoreClient s = RingStoreClient.connect(pair.standby.socket())) {
                long deadline = ready + 1_800_000_000_000L;
                long nextPrint = ready + 5_000_000_000L;
                while (System.nanoTime() < deadline) {
                    StatusResponse st = ReplicaPair.status(s);
                    held = st.getCommittedPosition();
                    long now = System.nanoTime();
                    if (firstProgress < 0 && held > 0) {
                        firstProgress = now;
                    }
                    if (held >= end) {
                        break;
                    }
                    if (now >= nextPrint) {
                        log.printf(Locale.ROOT, "  standby holds %,d of %,d (%.0f%%) after %.1f s%n", held, end,
                                100.0 * held / end, (now - ready) / 1e9);
                        nextPrint += 5_000_000_000L;
                    }
                    Thread.sleep(20);
                }
            }
            long done = System.nanoTime();
            if (held < end) {
                throw new IOException("the standby did not catch up within 30 min: holds " + held + " of " + end);
            }
            double seconds = (done - ready) / 1e9;
            log.printf(Locale.ROOT, "catch-up: standby JVM start to ready %.1f s; ready to holding %,d bytes %.1f s "
                            + "(%.1f MB/s); first progress seen %.2f s after ready%n", (ready - started) / 1e9, end, seconds,
                    end / 1e6 / seconds, firstProgress < 0 ? Double.NaN : (firstProgress - ready) / 1e9);
            return new double[] {end / 1e6, seconds};
        } finally {
            pair.close();
            BenchRunner.deleteTree(dir);
        }
    }

    private void print(Result r) {
        out.printf(Locale.ROOT, "ringstore bench --replica-failover: two daemon children on this machine, TLS over loopback%n");
        out.printf(Locale.ROOT, "promote -> first acknowledged append, local (promoted board alone), ms: %s%n",
                fmt(r.promoteLocalMillis()));
        out.printf(Locale.ROOT, "promote -> first acknowledged append, replica-memory (old primary restarted to follow), ms: %s%n",
                fmt(r.promoteMemoryMillis()));
        if (r.catchUpSeconds() > 0) {
            out.printf(Locale.ROOT, "catch-up: standby started empty, %.0f MB behind: held the primary's end %.1f s after "
                    + "ready: %.1f MB/s%n", r.catchUpMegabytes(), r.catchUpSeconds(), r.catchUpMegabytesPerSecond());
        }
    }

    private static String fmt(List<Double> v) {
        List<Double> sorted = v.stream().sorted().toList();
        return sorted.stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList()
                + (sorted.isEmpty() ? "" : String.format(Locale.ROOT, " (median %.1f)", sorted.get(sorted.size() / 2)));
    }

    private static <T> T await(CompletableFuture<T> f) throws IOException {
        try {
            return f.get(CALL_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            throw new IOException(e.getCause() != null ? e.getCause() : e);
        }
    }
}
