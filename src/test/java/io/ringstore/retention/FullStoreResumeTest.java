package io.ringstore.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.split.PressureReading;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, item 2, as a user saw it: a 48 MiB filesystem, 8 MiB segments, the default budget
 * (90% of the space the store can have), no stream limits, 50 streams of 200-byte events until
 * STORAGE_FULL. The refusal must say that retention cannot free anything and what the operator
 * can do; the filesystem must never fill (the overshoot stays inside it); and once the
 * filesystem is grown, appends must resume without a restart.
 *
 * <p>Needs root (it mounts a tmpfs and grows it with remount); without it, it is skipped.
 */
class FullStoreResumeTest {
    private static final long SEGMENT = 8L << 20;
    private static final int STREAMS = 50;
    private static final int BATCH = 20;
    private static final long WAIT_MILLIS = 60_000;

    @TempDir
    Path dir;
    private Path mountPoint;
    private boolean mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted && run("umount", mountPoint.toString()) != 0) {
            run("umount", "-l", mountPoint.toString());
        }
    }

    @Test
    void aStoreWithNoLimitsAtItsBudgetSaysWhatToDoAndResumesWhenTheFilesystemGrows() throws Exception {
        mountPoint = Files.createDirectory(dir.resolve("mnt"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mountPoint.toString()) == 0,
                "cannot mount a tmpfs here (needs root); skipping");
        mounted = true;
        StoreConfig config = StoreConfig.defaults(mountPoint.resolve("data")).withSegmentSize(SEGMENT)
                .withPressureGauge(() -> PressureReading.CALM)
                .withRetention(RetentionOptions.defaults().withBudget(0, 90, 80));
        byte[] data = new byte[200];
        List<EventData> batch = java.util.Collections.nCopies(BATCH, EventData.of("reading", data));
        try (RingStore store = RingStore.open(config)) {
            long total = mountPoint.toFile().getTotalSpace();
            long minFree = mountPoint.toFile().getUsableSpace();
            RingStoreException refusal = null;
            long appended = 0;
            // Fill to the budget: a refusal while the splitter still has events to copy is
            // passing (the budget counts them), so append again once it has caught up, until
            // appends are refused with nothing left to split. The filesystem must never fill.
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3 * WAIT_MILLIS);
            while (System.nanoTime() < deadline) {
                refusal = appendRound(store, batch);
                minFree = Math.min(minFree, mountPoint.toFile().getUsableSpace());
                if (refusal == null) {
                    appended += (long) STREAMS * BATCH;
                    continue;
                }
                // Let the splitter catch up (sampling free space meanwhile), then try again.
                store.splitter().drain();
                while (store.splitterStatus().lagEvents() > 0 && System.nanoTime() < deadline) {
                    minFree = Math.min(minFree, mountPoint.toFile().getUsableSpace());
                    store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
                }
                // Retention then frees the log's second copy of what was split; appends resume
                // if that was enough. Refused for good: still refused with the splitter caught up
                // and the log down to the segment being written (a checkpoint is written at each
                // roll, so every older one is split and covered: retention can take them all).
                long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (store.retention().budget().refusing()
                        && !(store.status().segments() == 1 && store.splitterStatus().lagEvents() == 0)
                        && System.nanoTime() < settle) {
                    minFree = Math.min(minFree, mountPoint.toFile().getUsableSpace());
                    store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 20);
                }
                if (store.retention().budget().refusing()) {
                    break;
                }
            }
            System.out.printf("appended=%d total=%d minFree=%d %s%n", appended, total, minFree,
                    store.retention().budget().describe());
            assertTrue(refusal != null && store.retention().budget().refusing(),
                    "appends were never refused for good; appended=" + appended);
            for (int i = 0; i < 10 && (refusal = appendRound(store, batch)) == null; i++) {
                appended += (long) STREAMS * BATCH;
            }
            assertTrue(refusal != null, "appends are accepted though the budget says refusing");
            String message = refusal.getMessage();
            assertTrue(message.contains("ringstore limits") && message.contains("ringstore delete"),
                    "the refusal should say how to free space when no limit can: " + message);
            assertTrue(!message.contains("when retention frees space"), "a promise retention cannot keep: " + message);
            assertTrue(minFree > 0, "the filesystem filled up: the overshoot must stay inside it");
            // Within 90%: the overshoot by design (a segment and a splitter pass) is inside the budget.
            assertTrue(total - minFree <= store.retention().budget().budgetBytes(),
                    "filesystem usage " + (total - minFree) + " went over the budget "
                            + store.retention().budget().budgetBytes());

            // Grow the filesystem: with a percentage budget the store gets the new room.
            assertEquals(0, run("mount", "-o", "remount,size=96m", mountPoint.toString()), "remount failed");
            long resumeBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
            boolean resumed = false;
            while (!resumed && System.nanoTime() < resumeBy) {
                try {
                    store.append("sensor-0", ExpectedVersion.ANY, batch).join();
                    resumed = true;
                } catch (CompletionException e) {
                    if (!(e.getCause() instanceof RingStoreException x) || x.code() != ErrorCode.STORAGE_FULL) {
                        throw e;
                    }
                    store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 50);
                }
            }
            assertTrue(resumed, "appends stayed refused after the filesystem grew: "
                    + store.retention().budget().describe());
        }
    }

    /** One append of a batch to every stream; the STORAGE_FULL refusal if any, else null. */
    private static RingStoreException appendRound(RingStore store, List<EventData> batch) {
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int s = 0; s < STREAMS; s++) {
            inFlight.add(store.append("sensor-" + s, ExpectedVersion.ANY, batch));
        }
        RingStoreException refusal = null;
        for (CompletableFuture<?> f : inFlight) {
            try {
                f.join();
            } catch (CompletionException e) {
                if (!(e.getCause() instanceof RingStoreException x) || x.code() != ErrorCode.STORAGE_FULL) {
                    throw e;
                }
                refusal = x;
            }
        }
        return refusal;
    }

    private static int run(String... command) throws IOException, InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        }
    }
}
