package io.ringstore.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything a bench run measured, in the order it ran, plus what it ran on.
 *
 * @param options        the settings
 * @param environment    where it ran
 * @param rows           one per target and in-flight depth
 * @param heapUsedBytes  heap used at the end
 * @param heapMaxBytes   the heap limit
 * @param peakRssBytes   VmHWM at the end (since the last per-configuration reset, if resets worked)
 */
record BenchReport(BenchOptions options, Environment environment, List<ConfigResult> rows, long heapUsedBytes,
                   long heapMaxBytes, long peakRssBytes) {

    /**
     * Where the bench ran.
     *
     * @param folder            the working folder
     * @param device            block device name and MAJ:MIN, or "n/a"
     * @param deviceNote        why there is no device counter, or null
     * @param durability        the store's durability mode (its default)
     * @param baselineBodyBytes body bytes per baseline frame (matched to the store's record body)
     * @param streamsUsed       distinct streams the seeded workload touches
     * @param platform          JVM, OS and CPU count
     */
    record Environment(String folder, String device, String deviceNote, String durability, int baselineBodyBytes,
                       int streamsUsed, String platform) {}

    /** Store divided by baseline at one in-flight depth. */
    record Ratio(int inFlight, double eventsPerSecond, double latencyP50, double latencyP99,
                 double devicePerPayload, double eventsPerForce, double cpuPerEvent) {}

    ConfigResult find(String target, int inFlight) {
        for (ConfigResult r : rows) {
            if (r.target().equals(target) && r.inFlight() == inFlight) {
                return r;
            }
        }
        return null;
    }

    List<Ratio> ratios() {
        List<Ratio> out = new ArrayList<>();
        for (int depth : options.inFlight()) {
            ConfigResult s = find("store", depth);
            ConfigResult b = find("baseline", depth);
            if (s == null || b == null) {
                continue;
            }
            out.add(new Ratio(depth,
                    s.eventsPerSecond() / b.eventsPerSecond(),
                    (double) s.run().latencyP50Nanos() / b.run().latencyP50Nanos(),
                    (double) s.run().latencyP99Nanos() / b.run().latencyP99Nanos(),
                    s.device().bytesPerPayloadByte() / b.device().bytesPerPayloadByte(),
                    s.batching().eventsPerForce() / b.batching().eventsPerForce(),
                    s.cpuMicrosPerEvent() / b.cpuMicrosPerEvent()));
        }
        return out;
    }
}
