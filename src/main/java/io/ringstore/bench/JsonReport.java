package io.ringstore.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The report as one JSON object (hand-written: flat numbers and strings, no library needed). */
final class JsonReport {
    private final StringBuilder sb = new StringBuilder(4096);

    private JsonReport() {}

    static void print(BenchReport report, PrintStream out) {
        JsonReport j = new JsonReport();
        j.write(report);
        out.println(j.sb);
    }

    private void write(BenchReport report) {
        BenchOptions o = report.options();
        longEvents = BenchRunner.longStreamEvents(o);
        BenchReport.Environment env = report.environment();
        sb.append('{');
        field("events", o.events()).field("eventsAtInFlight1", o.eventsAtDepth1()).field("naiveEvents", o.naiveEvents())
                .field("streams", o.streams()).field("streamsUsed", env.streamsUsed())
                .field("payloadBytes", o.payloadBytes()).field("producers", o.producers()).field("seed", o.seed())
                .field("reads", o.reads()).field("readIngestRate", o.ingestRate())
                .field("durability", env.durability()).field("folder", env.folder()).field("device", env.device())
                .field("deviceNote", env.deviceNote()).field("baselineBodyBytes", env.baselineBodyBytes())
                .field("platform", env.platform()).field("sqlite", env.sqlite()).field("piProfile", env.piProfile());
        if (report.fsync() != null) {
            sb.append("\"fsync4k\":{");
            field("writes", report.fsync().writes()).field("p50Micros", report.fsync().p50Micros())
                    .field("p99Micros", report.fsync().p99Micros()).last("maxMicros", report.fsync().maxMicros());
            sb.append(',');
        }
        rows("results", report.rows());
        sb.append(',');
        rows("sweep", report.sweep());
        sb.append(",\"ratios\":[");
        List<BenchReport.Ratio> ratios = report.ratios();
        for (int i = 0; i < ratios.size(); i++) {
            BenchReport.Ratio q = ratios.get(i);
            sb.append(i == 0 ? "{" : ",{");
            field("name", q.name()).field("value", q.value()).field("goal", q.goal())
                    .field("bound", q.goal() == null ? null : q.bound()).last("verdict", q.verdict());
        }
        sb.append("]}");
    }

    /** Events of the long stream the rows read whole (issue 19), set before the rows are written. */
    private int longEvents;

    private void rows(String name, List<ConfigResult> rows) {
        sb.append('"').append(name).append("\":[");
        for (int i = 0; i < rows.size(); i++) {
            ConfigResult r = rows.get(i);
            BatchStats b = r.batching();
            SplitterReport.ReadSet reads = r.reads();
            sb.append(i == 0 ? "{" : ",{");
            field("target", r.target()).field("streams", r.streams()).field("inFlight", r.inFlight())
                    .field("eventsAcked", r.run().acked())
                    .field("eventsFailed", r.run().failed()).field("firstError", r.run().firstError())
                    .field("seconds", r.run().seconds()).field("eventsPerSecond", r.eventsPerSecond())
                    .field("payloadMBps", r.payloadMBps())
                    .field("latencyP50Micros", r.run().latencyP50Nanos() / 1000.0)
                    .field("latencyP99Micros", r.run().latencyP99Nanos() / 1000.0)
                    .field("latencyMaxMicros", r.run().latencyMaxNanos() / 1000.0)
                    .field("reads", reads == null ? null : reads.reads())
                    .field("readsWrong", reads == null ? null : reads.wrong())
                    .field("readP50Micros", reads == null ? null : reads.p50Nanos() / 1000.0)
                    .field("readP99Micros", reads == null ? null : reads.p99Nanos() / 1000.0)
                    .field("longReadEvents", r.longRead() == null ? null : longEvents)
                    .field("longReadMedianMicros", r.longRead() == null ? null : r.longRead().p50Nanos() / 1000.0)
                    .field("longReadsWrong", r.longRead() == null ? null : r.longRead().wrong())
                    .field("batches", b.batches()).field("forces", b.forces())
                    .field("eventsPerForce", b.eventsPerForce()).field("eventsPerBatch", b.eventsPerBatch())
                    .field("forceP50Micros", b.forceP50Micros()).field("forceP99Micros", b.forceP99Micros())
                    .field("forceSampleScope", b.forceSampleScope())
                    .field("deviceSectorsWritten", r.device().sectors())
                    .field("deviceWindowSeconds", r.device().seconds())
                    .field("deviceBytesPerPayloadByte", r.device().bytesPerPayloadByte())
                    .field("backgroundBytesPerPayloadByte", r.device().backgroundPerPayloadByte())
                    .field("cpuMicrosPerEvent", r.cpuMicrosPerEvent())
                    .field("otherProcessesCpuShare", r.cpu().otherShare())
                    .field("liveHeapBytes", r.memory().liveHeapBytes())
                    .field("unsplitEvents", r.unsplitEvents())
                    .last("peakRssBytes", r.memory().peakRssBytes());
        }
        sb.append(']');
    }

    private JsonReport field(String name, Object value) {
        key(name);
        value(value);
        sb.append(',');
        return this;
    }

    private void last(String name, Object value) {
        key(name);
        value(value);
        sb.append('}');
    }

    private void key(String name) {
        sb.append('"').append(name).append("\":");
    }

    private void value(Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Double d) {
            sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.4f", d));
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else {
            string(v.toString());
        }
    }

    private void string(String s) {
        io.ringstore.jsonlines.Json.quote(s, sb);
    }
}
