package io.ringstore.bench;

/**
 * How a target grouped its work.
 *
 * @param batches         group commits (drained batches)
 * @param events          events written
 * @param forces          forces (msync / fdatasync) done
 * @param frameBytes      bytes of frames written, padding included
 * @param forceP50Micros  median force latency
 * @param forceP99Micros  99th percentile force latency
 * @param forceSampleScope which forces the percentiles cover
 */
record BatchStats(long batches, long events, long forces, long frameBytes, long forceP50Micros,
                  long forceP99Micros, String forceSampleScope) {

    /**
     * The counters since {@code earlier} (a snapshot of the same target); the force percentiles
     * stay those of the last forces, as the target reports them.
     */
    BatchStats since(BatchStats earlier) {
        return new BatchStats(batches - earlier.batches, events - earlier.events, forces - earlier.forces,
                frameBytes - earlier.frameBytes, forceP50Micros, forceP99Micros, forceSampleScope);
    }

    double eventsPerForce() {
        return forces == 0 ? Double.NaN : (double) events / forces;
    }

    double eventsPerBatch() {
        return batches == 0 ? Double.NaN : (double) events / batches;
    }

    double frameBytesPerEvent() {
        return events == 0 ? Double.NaN : (double) frameBytes / events;
    }
}
