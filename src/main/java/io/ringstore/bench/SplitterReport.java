package io.ringstore.bench;

import java.util.List;

/**
 * What {@code bench --splitter} measured, part by part (a part not run is empty or null).
 *
 * @param options     the settings
 * @param environment where it ran
 * @param onOff       splitter off/on rows, per in-flight depth
 * @param catchUp     the catch-up run, or null
 * @param sweep       store and naive rows, per stream count
 * @param rehydration the read-latency run, or null
 */
record SplitterReport(SplitterBenchOptions options, Environment environment, List<Run> onOff, CatchUp catchUp,
                      List<Run> sweep, Rehydration rehydration) {

    /**
     * @param folder      the working folder
     * @param device      block device name and MAJ:MIN, or "n/a"
     * @param deviceNote  why there is no device counter, or null
     * @param windowBytes the splitter's window in log bytes
     * @param windowMillis the splitter's window age limit
     * @param platform    JVM, OS and CPU count
     */
    record Environment(String folder, String device, String deviceNote, long windowBytes, long windowMillis,
                       String platform) {}

    /**
     * One measured append run: the store with the splitter disabled ("store-off"), running with
     * its pressure signals held calm ("store"), with the real signals ("store-psi"), or the naive
     * design ("naive").
     *
     * @param target        "store-off", "store", "store-psi" or "naive"
     * @param streams       streams configured
     * @param inFlight      appends each producer kept unacknowledged
     * @param run           throughput and latency of the appends
     * @param cpu           CPU during the appends
     * @param cpuToLagZero  CPU from the first append to lag 0 (the splitter's drain included)
     * @param splitterCpuSeconds CPU time of the splitter thread until lag 0 (NaN without one)
     * @param lagZeroSeconds from the first append until every event was in a stream file; NaN
     *                      without a splitter, or when it timed out
     * @param eventsSplit   events the splitter moved (0 without one)
     * @param windows       windows it split
     * @param pressure      time it was held back by (real) pressure signals
     * @param device        device writes: open, appends, drain to lag 0, close, sync
     * @param files         stream files (store) or per-stream files (naive) at the end
     * @param fileBytes     their total size
     * @param batching      group commits / forces
     */
    record Run(String target, int streams, int inFlight, LoadDriver.Result run, CpuUsage.Sample cpu,
               CpuUsage.Sample cpuToLagZero, double splitterCpuSeconds, double lagZeroSeconds, long eventsSplit, long windows, SplitterWatch.Pressure pressure,
               DeviceWrites device, long files, long fileBytes, BatchStats batching) {

        double eventsPerSecond() {
            return run.eventsPerSecond();
        }

        /** Events moved to stream files per second, from the first append to lag 0. */
        double splitEventsPerSecond() {
            return Double.isNaN(lagZeroSeconds) || lagZeroSeconds <= 0 ? Double.NaN : eventsSplit / lagZeroSeconds;
        }

        /** The splitter thread's CPU per event it split (the rest of its time is I/O waits and idle). */
        double splitterCpuMicrosPerEvent() {
            return eventsSplit == 0 ? Double.NaN : splitterCpuSeconds * 1e6 / eventsSplit;
        }

        /** From the last acknowledgement to lag 0. */
        double drainSeconds() {
            return lagZeroSeconds - run.seconds();
        }

        double cpuMicrosPerEvent() {
            return run.acked() == 0 ? Double.NaN : cpu.selfSeconds() * 1e6 / run.acked();
        }

        /** This JVM's CPU per event until every event was in a stream file (the appends alone without a splitter). */
        double cpuMicrosPerEventToLagZero() {
            return run.acked() == 0 ? Double.NaN : cpuToLagZero.selfSeconds() * 1e6 / run.acked();
        }
    }

    /**
     * The catch-up run.
     *
     * @param streams             streams of the ingest
     * @param ingestRate          offered ingest, events/s
     * @param pausedSeconds       how long the splitter was held paused
     * @param lagEventsAtRelease  unsplit events when it was released
     * @param lagBytesAtRelease   unsplit log bytes then
     * @param resumeSeconds       release to the splitter leaving its pause (pressure hysteresis)
     * @param backlogSeconds      release until the split position passed the log end at release
     * @param caughtUpSeconds     release until the splitter said RUNNING again (lag within one window)
     * @param eventsSplit         events split from release to caught up
     * @param ingestEventsPerSecond measured ingest (acknowledged appends) from release to caught up
     * @param pausedIngestEventsPerSecond measured ingest while it was paused
     * @param lagEventsAtCaughtUp unsplit events when it was caught up
     * @param timedOut            true when it had not caught up within the timeout
     * @param run                 the whole ingest run
     */
    record CatchUp(int streams, double ingestRate, double pausedSeconds, long lagEventsAtRelease,
                   long lagBytesAtRelease, double resumeSeconds, double backlogSeconds, double caughtUpSeconds,
                   long eventsSplit, double ingestEventsPerSecond, double pausedIngestEventsPerSecond,
                   long lagEventsAtCaughtUp, boolean timedOut, LoadDriver.Result run) {

        double splitEventsPerSecond() {
            return caughtUpSeconds > 0 ? eventsSplit / caughtUpSeconds : Double.NaN;
        }

        /** The split rate while catching up, as a multiple of the ingest rate. */
        double multiple() {
            return splitEventsPerSecond() / ingestEventsPerSecond;
        }
    }

    /**
     * The rehydration run.
     *
     * @param streamsPerSet     streams in each read set
     * @param eventsPerStream   events in each of them
     * @param ingestRate        offered background ingest, events/s
     * @param sets              timed reads per set
     * @param splitWhileUnsplit events the splitter moved during the unsplit phase (0: it held)
     * @param background        the background ingest run
     */
    record Rehydration(int streamsPerSet, int eventsPerStream, double ingestRate, List<ReadSet> sets,
                       long splitWhileUnsplit, LoadDriver.Result background) {}

    /**
     * Whole-stream reads of one set in one phase.
     *
     * @param label      which set, which phase
     * @param reads      reads timed
     * @param wrong      reads that failed or did not return the whole stream in order
     * @param firstWrong what the first of those returned
     * @param p50Nanos   median latency
     * @param p99Nanos   99th percentile
     * @param maxNanos   slowest
     * @param ingestEventsPerSecond background appends acknowledged per second meanwhile
     */
    record ReadSet(String label, int reads, int wrong, String firstWrong, long p50Nanos, long p99Nanos,
                   long maxNanos, double ingestEventsPerSecond) {}
}
