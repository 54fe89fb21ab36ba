package io.ringstore.bench;

/**
 * One measured configuration (one target at one in-flight depth).
 *
 * @param target       "store" or "baseline"
 * @param inFlight     appends each producer kept unacknowledged
 * @param payloadBytes payload bytes per event
 * @param run          throughput and latency
 * @param batching     group commits and forces
 * @param device       device writes
 * @param memory       heap and RSS
 * @param cpu          CPU time of this process and of others during the run (load only)
 */
record ConfigResult(String target, int inFlight, int payloadBytes, LoadDriver.Result run, BatchStats batching,
                    DeviceWrites device, ProcessMemory.Sample memory, CpuUsage.Sample cpu) {

    double eventsPerSecond() {
        return run.eventsPerSecond();
    }

    /** This process's CPU microseconds per acknowledged event (producers, writer, GC, everything). */
    double cpuMicrosPerEvent() {
        return run.acked() == 0 ? Double.NaN : cpu.selfSeconds() * 1e6 / run.acked();
    }

    /** Payload megabytes (10^6) per second. */
    double payloadMBps() {
        return run.acked() * (double) payloadBytes / run.seconds() / 1e6;
    }
}
