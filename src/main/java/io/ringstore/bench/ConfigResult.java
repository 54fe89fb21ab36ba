package io.ringstore.bench;

/**
 * One measured configuration (one target at one in-flight depth and stream count).
 *
 * @param target          one of {@link BenchOptions#TARGETS}
 * @param streams         streams the workload spreads over
 * @param inFlight        appends each producer kept unacknowledged
 * @param payloadBytes    payload bytes per event
 * @param run             throughput and latency of the measured appends
 * @param batching        group commits and forces (SQLite: commits)
 * @param device          device writes over open, appends, reads, drain, close and sync
 * @param memory          heap of this JVM, and peak RSS of the process holding the data (the daemon's, for the socket)
 * @param cpu             CPU time of this process and of others during the measured appends
 * @param childCpuSeconds CPU seconds the daemon child used during the measured appends (0 when in-process)
 * @param reads           whole-stream reads while background appends went on, or null when not timed
 * @param unsplitEvents   events the store's splitter had not moved to stream files when the window closed
 *                        (held by I/O pressure): their stream-file writes are missing from the device bytes
 * @param longRead        whole reads of one long stream (p50: the median read), or null when not timed
 */
record ConfigResult(String target, int streams, int inFlight, int payloadBytes, LoadDriver.Result run,
                    BatchStats batching, DeviceWrites device, ProcessMemory.Sample memory, CpuUsage.Sample cpu,
                    double childCpuSeconds, SplitterReport.ReadSet reads, long unsplitEvents,
                    SplitterReport.ReadSet longRead) {

    /** Events per second of the median whole read of the long stream, NaN when not timed. */
    double longReadEventsPerSecond(int events) {
        return longRead == null || longRead.wrong() > 0 ? Double.NaN : events / (longRead.p50Nanos() / 1e9);
    }

    double eventsPerSecond() {
        return run.eventsPerSecond();
    }

    /** CPU microseconds per acknowledged event: this JVM (producers, and the target when in-process) plus the daemon. */
    double cpuMicrosPerEvent() {
        return run.acked() == 0 ? Double.NaN : (cpu.selfSeconds() + childCpuSeconds) * 1e6 / run.acked();
    }

    /** Payload megabytes (10^6) per second. */
    double payloadMBps() {
        return run.acked() * (double) payloadBytes / run.seconds() / 1e6;
    }
}
