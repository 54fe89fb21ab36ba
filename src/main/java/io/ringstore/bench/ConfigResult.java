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
 */
record ConfigResult(String target, int inFlight, int payloadBytes, LoadDriver.Result run, BatchStats batching,
                    DeviceWrites device, ProcessMemory.Sample memory) {

    double eventsPerSecond() {
        return run.eventsPerSecond();
    }

    /** Payload megabytes (10^6) per second. */
    double payloadMBps() {
        return run.acked() * (double) payloadBytes / run.seconds() / 1e6;
    }
}
