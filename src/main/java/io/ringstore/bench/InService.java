package io.ringstore.bench;

import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Brings a fresh store to where a store in service is before a row measures it: past its first
 * reclaim, writing into a recycled log segment. A fresh store writes segments it has just
 * allocated (fallocate: unwritten extents), so each force also commits the file system's extent
 * changes; a store in service writes the spare segment retention kept, whose blocks are already
 * written (see {@code MainLog.roll}). With the defaults retention keeps 512 MiB of split log, so
 * this appends, at a deep pipeline to streams of its own, until the log has rolled into the
 * recycled spare (about 576 MiB of log), then waits for the splitter to copy it all. The row's
 * warm-up and window follow in that segment and in the next ones, recycled as retention frees
 * them. SQLite needs no such step: its warm-up's checkpoint already has it rewriting its WAL
 * from the start, as it does in service.
 */
final class InService {
    /** Streams the aging appends go to: none of the row's, few enough that each fills its file fast. */
    private static final int STREAMS = 100;
    private static final int DEPTH = 32;
    private static final int ROUND_EVENTS = 50_000;
    /** A store that never recycles (retention held back) is reported after this, not waited for. */
    private static final long MAX_NANOS = 900_000_000_000L;

    /**
     * What aging did.
     *
     * @param events  events appended
     * @param seconds how long it took, the splitter's drain included
     * @param rolls   the log's rolls by the end
     */
    record Result(long events, double seconds, AppendTarget.LogRolls rolls) {
        boolean reached() {
            return rolls.recycled() > 0;
        }

        String describe() {
            return String.format(Locale.ROOT, "%,d events in %.1f s, %s%s", events, seconds, rolls.describe(),
                    reached() ? "" : " (NOT in service: no roll recycled a segment)");
        }
    }

    private InService() {}

    /**
     * The log folder of a row's store in the row's folder {@code dir}, or null for a row this does
     * not age (SQLite, the plain file, the naive design, and the two-board rows, whose boards'
     * folders and retention follow their standbys).
     */
    static Path logFolder(String label, Path dir) {
        return switch (label) {
            case "store" -> dir.resolve("log");
            case "socket", "socket-multi", "json" -> dir.resolve("data").resolve("log");
            default -> null;
        };
    }

    /**
     * Drops the log's files from the page cache, except the pages the store has mapped (what its
     * writer touched in the current segment): the spare and the rest of the current segment are
     * then read from the device when the writer first writes them, as on a board whose cache
     * holds far less than the 512 MiB of log written since the spare's last life.
     */
    static void dropLogCache(Path logFolder) throws IOException {
        try (Stream<Path> files = Files.list(logFolder)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Posix.dropFileCache(f);
            }
        }
    }

    /** Ages {@code target}, a row with a {@link #logFolder} and {@link AppendTarget#logRolls()}. */
    static Result age(AppendTarget target, BenchOptions options, PrintStream log)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        long events = 0;
        long lastProgress = start;
        AppendTarget.LogRolls rolls = target.logRolls();
        for (int round = 0; rolls.recycled() == 0 && System.nanoTime() - start < MAX_NANOS; round++) {
            LoadDriver.Result r = new LoadDriver(target, Workload.generate("age-", ROUND_EVENTS, STREAMS,
                    options.payloadBytes(), options.seed() + 7 + round), options.producers(), DEPTH).run();
            if (r.failed() > 0) {
                throw new IOException("aging the store failed: " + r.failed() + " appends, first: " + r.firstError());
            }
            events += r.acked();
            rolls = target.logRolls();
            if (System.nanoTime() - lastProgress >= options.progressMillis() * 1_000_000) {
                lastProgress = System.nanoTime();
                log.printf(Locale.ROOT, "  aging: %,d events, %s%n", events, rolls.describe());
            }
        }
        target.settle(BenchRunner.SETTLE_TIMEOUT_MILLIS, options.drainStallMillis(), log, options.progressMillis());
        return new Result(events, (System.nanoTime() - start) / 1e9, target.logRolls());
    }
}
