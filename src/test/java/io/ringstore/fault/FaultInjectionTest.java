package io.ringstore.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.error.ErrorCode;
import io.ringstore.fault.FaultInjectingIo.Failure;
import io.ringstore.fault.FaultInjectingIo.Mode;
import io.ringstore.fault.FaultInjectingIo.Op;
import io.ringstore.fault.Producer.Attempt;
import io.ringstore.log.FileStorageIo;
import io.ringstore.log.MainLog;
import io.ringstore.log.SegmentHeader;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Drives a store with several producers while one storage operation fails, once or for good, and
 * checks what must survive any fault:
 * <ol>
 *   <li>every acknowledged append reads back intact (stream, version, data, event id, position),
 *       live and after a close and re-open;
 *   <li>nothing else is stored: the log holds exactly the acknowledged events, so each stream's
 *       versions in {@code $all} run 0, 1, 2, ... without gap or duplicate;
 *   <li>a failed append fails in time with a typed error (STORAGE_ERROR; STORAGE_FULL when the
 *       layer reports no space) and leaves nothing behind in the stream table or the idempotency
 *       window (see {@link Producer});
 *   <li>after a one-off fault appends go on without a restart; under a persistent fault appends
 *       fail while reads go on, appends resume in the same store once it is cleared, and a store
 *       closed while the fault is armed re-opens cleanly once it is cleared.
 * </ol>
 * One scenario per invocation; deterministic inputs (seeded payloads, faults counted by call).
 */
class FaultInjectionTest {
    private static final long SEGMENT_SIZE = 64 << 10;
    private static final int PRODUCERS = 4;
    private static final int STREAMS_PER_PRODUCER = 3;
    private static final int APPENDS_PER_PRODUCER = 60;
    private static final long SEED = 0x5EED_F417L;

    @TempDir
    Path dir;

    /**
     * One fault. Counted from arming, which happens before the first segment roll, so call 1 of
     * a roll's operations is the first roll's (the checkpointer only runs after a roll).
     */
    record Scenario(Op op, Mode mode, Failure failure, long nth) {
        /** writeFile is used only by the checkpointer: failing it costs start-up time, no append. */
        boolean failsAppends() {
            return op != Op.WRITE_FILE;
        }

        ErrorCode code() {
            return failure == Failure.NO_SPACE ? ErrorCode.STORAGE_FULL : ErrorCode.STORAGE_ERROR;
        }

        @Override
        public String toString() {
            return op + " " + mode + (failure == Failure.NO_SPACE ? " no-space" : "") + " from call " + nth;
        }
    }

    static Stream<Scenario> scenarios() {
        List<Scenario> out = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            out.add(new Scenario(Op.ALLOCATE, mode, Failure.IO_ERROR, 1));
            out.add(new Scenario(Op.ALLOCATE, mode, Failure.NO_SPACE, 1));
            out.add(new Scenario(Op.MAP, mode, Failure.IO_ERROR, 1));
            // A frame takes four writes (head, tail, checksum, length) and a roll adds header and
            // seal writes, so call 203 lands inside some append's frames, not on its first write.
            out.add(new Scenario(Op.WRITE, mode, Failure.IO_ERROR, 203));
            out.add(new Scenario(Op.FORCE, mode, Failure.IO_ERROR, 31));
            out.add(new Scenario(Op.FORCE_DIRECTORY, mode, Failure.IO_ERROR, 1));
            out.add(new Scenario(Op.WRITE_FILE, mode, Failure.IO_ERROR, 1));
            out.add(new Scenario(Op.RENAME, mode, Failure.IO_ERROR, 1));
        }
        return out.stream();
    }

    private StoreConfig config(FaultInjectingIo io) {
        return StoreConfig.defaults(dir).withSegmentSize(SEGMENT_SIZE).withIo(io);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void acknowledgedAppendsSurviveTheFault(Scenario scenario) throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        ErrorCode code = scenario.code();
        Ledger ledger = new Ledger();
        List<Producer> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            producers.add(new Producer(p, STREAMS_PER_PRODUCER, SEED));
        }
        RingStore store = RingStore.open(config(io));
        try {
            // Acknowledged history from before the fault, well inside the first segment.
            for (Producer p : producers) {
                assertTrue(p.append(store, p.single(0, 100 + p.random.nextInt(400)), code, ledger), "warm-up append");
            }
            assertTrue(store.committedPosition() < SEGMENT_SIZE / 2, "the warm-up must not roll");
            // The splitter's first pass writes its checkpoint (a write, a rename, a folder force)
            // on its own thread: let it happen before arming, or on a loaded machine it can take
            // the fault meant for the first segment roll.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (store.splitterStatus().position() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(store.splitterStatus().position() > 0, "the splitter never wrote its first checkpoint");

            io.arm(scenario.op(), scenario.mode(), scenario.nth(), scenario.failure());
            runProducers(store, producers, code, ledger);
            assertTrue(io.awaitInjection(0, TimeUnit.SECONDS), "the fault never fired: " + scenario);
            int failed = ledger.failures.size();

            if (scenario.mode() == Mode.ONCE) {
                assertEquals(1, io.injected(scenario.op()));
                assertTrue(store.committedPosition() > 3 * SEGMENT_SIZE, "the load must roll several times");
                if (scenario.failsAppends()) {
                    // One call fails one batch at most, and a batch holds at most one append per producer.
                    assertTrue(failed >= 1 && failed <= PRODUCERS, "appends failed by one fault: " + failed);
                } else {
                    assertEquals(0, failed, "a failed checkpoint must not fail appends");
                }
                ledger.verify(store, "live, after a one-off fault");
                settle(store, producers, code, ledger, "after a one-off fault, without a restart");
            } else {
                if (scenario.failsAppends()) {
                    assertTrue(failed >= 1, "a persistent fault must fail appends");
                    probeAppendsFail(store, code, ledger);
                } else {
                    assertEquals(0, failed, "a failed checkpoint must not fail appends");
                }
                ledger.verify(store, "live, while the fault persists");
                io.clear(scenario.op());
                settle(store, producers, code, ledger, "after the fault was cleared, without a restart");
                ledger.verify(store, "live, after the fault was cleared");
                // Close while it fails again; re-open below once it is cleared.
                io.arm(scenario.op(), Mode.PERSISTENT, 1, scenario.failure());
                Producer first = producers.getFirst();
                first.append(store, first.next(), code, ledger);
            }
        } finally {
            store.close();
        }
        if (scenario.op() == Op.FORCE && scenario.mode() == Mode.ONCE) {
            assertTrue(io.lostPages() > 0, "the failed msync must have lost the pages it was given");
        }
        // What failed syncs lost comes back as the disk holds it (see Writeback): the store must
        // not have trusted those bytes (acknowledged them, or left them to be read as records).
        io.evictLostPages();

        io.clearAll();
        try (RingStore reopened = RingStore.open(config(io))) {
            ledger.verify(reopened, "after re-opening");
            settle(reopened, producers, code, ledger, "after re-opening");
            ledger.verify(reopened, "after re-opening and appending");
        }
    }

    /**
     * A roll succeeds but the append that caused it fails (its force, or its first frame write):
     * the committed position is then the new segment's first frame slot. Readers of {@code $all}
     * used to step from the seal to the new segment's header, below that position, and report
     * "empty slot below committed position", a corruption, for a healthy log.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Op.class, names = {"FORCE", "WRITE"})
    void readsGoOnWhenTheAppendThatRolledFails(Op op) throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        Ledger ledger = new Ledger();
        Producer producer = new Producer(0, 1, SEED);
        try (RingStore store = RingStore.open(config(io))) {
            for (int i = 0; i < 5; i++) {
                assertTrue(producer.append(store, producer.single(0, 2000), ErrorCode.STORAGE_ERROR, ledger));
            }
            // 10 KiB used, so a 60,000-byte event needs a new segment. The roll makes calls 1 and 2
            // (force: new header, old segment; write: new header, seal); call 3 is the append's own.
            io.failOnce(op, 3);
            Attempt big = producer.single(0, 60_000);
            assertFalse(producer.append(store, big, ErrorCode.STORAGE_ERROR, ledger), "the append after the roll must fail");
            assertEquals(1, io.injected(op));
            assertEquals(SEGMENT_SIZE + SegmentHeader.LENGTH, store.committedPosition(),
                    "nothing is committed in the new segment");

            ledger.verify(store, "after the failed append in a fresh segment");
            MainLog.ReadBatch tail = store.readLog(ledger.lastAckedPosition(), 10);
            assertEquals(1, tail.records().size());
            assertEquals(0, store.readLog(tail.next(), 10).records().size(), "reading on from the end finds nothing");

            assertTrue(producer.append(store, big, ErrorCode.STORAGE_ERROR, ledger), "the retry goes through");
            assertEquals(SEGMENT_SIZE + SegmentHeader.LENGTH, ledger.lastAckedPosition());
            assertEquals(1, store.readLog(tail.next(), 10).records().size(), "reading on finds the retried event");
            ledger.verify(store, "after the retry");
        }
        try (RingStore reopened = RingStore.open(config(new FaultInjectingIo(new FileStorageIo())))) {
            ledger.verify(reopened, "after re-opening");
        }
    }

    /** Runs every producer on its own thread until each has made its appends. */
    private static void runProducers(RingStore store, List<Producer> producers, ErrorCode code, Ledger ledger)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(producers.size());
        try {
            List<Future<?>> running = new ArrayList<>();
            for (Producer p : producers) {
                running.add(pool.submit(() -> {
                    for (int i = 0; i < APPENDS_PER_PRODUCER; i++) {
                        p.append(store, p.next(), code, ledger);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Error error) {
                        throw error;
                    }
                    throw e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** With no fault armed: each producer's failed append goes through on retry, then one more per stream. */
    private static void settle(RingStore store, List<Producer> producers, ErrorCode code, Ledger ledger, String when)
            throws Exception {
        for (Producer p : producers) {
            if (p.pending != null) {
                assertTrue(p.append(store, p.pending, code, ledger), "retry of a failed append " + when);
            }
            for (int s = 0; s < STREAMS_PER_PRODUCER; s++) {
                assertTrue(p.append(store, p.single(s, 100 + p.random.nextInt(3000)), code, ledger), "append " + when);
            }
        }
    }

    /**
     * Under a persistent fault appends must fail: at once for write and force, once the current
     * segment is full for the operations of a roll. Fixed-size appends fill it.
     */
    private static void probeAppendsFail(RingStore store, ErrorCode code, Ledger ledger) throws Exception {
        Producer probe = new Producer(PRODUCERS, 1, SEED);
        int size = 4000;
        int successes = 0;
        while (probe.append(store, probe.single(0, size), code, ledger)) {
            successes++;
            assertTrue(successes <= SEGMENT_SIZE / size, "appends still succeed under a persistent fault");
        }
        for (int i = 0; i < 3; i++) {
            assertFalse(probe.append(store, probe.single(0, size), code, ledger),
                    "appends must keep failing while the fault persists");
        }
    }
}
