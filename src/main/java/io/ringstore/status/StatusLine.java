package io.ringstore.status;

import io.ringstore.split.SplitterStatus;
import io.ringstore.store.StoreStatus;
import java.util.Locale;
import java.util.Map;

/**
 * The one-line summary for the journal and systemd's STATUS=: rates since the previous line,
 * splitter state and lag, force p99, disk free, streams, how long writes were held to the
 * splitter's pace, and what the LEDs show.
 */
public final class StatusLine {
    private long lastEvents = -1;
    private long lastBytes;
    private long lastNanos;
    private long lastThrottledMillis;

    /** Formats a line; rates are per second since the previous call. */
    public String format(StoreStatus s, long diskFreeBytes, Map<Led, LedPattern> leds, long nowNanos) {
        double seconds = lastEvents < 0 ? 0 : (nowNanos - lastNanos) / 1e9;
        double eventsPerSecond = seconds > 0 ? (s.writer().events() - lastEvents) / seconds : 0;
        double bytesPerSecond = seconds > 0 ? (s.writer().payloadBytes() - lastBytes) / seconds : 0;
        lastEvents = s.writer().events();
        lastBytes = s.writer().payloadBytes();
        lastNanos = nowNanos;
        // The writer was held to the splitter's pace (its lag past the bound) for this long.
        long held = s.writer().throttledMillis() - lastThrottledMillis;
        lastThrottledMillis = s.writer().throttledMillis();
        SplitterStatus sp = s.splitter();
        return String.format(Locale.ROOT,
                "status events/s=%.0f bytes/s=%.0f splitter=%s lag=%d events/%d bytes/%.1fs force_p99_ms=%.1f "
                        + "disk_free_mb=%d streams=%d open_files=%d queue=%d%s%s%s %s%s leds=write:%s,lag:%s,fault:%s%s",
                eventsPerSecond, bytesPerSecond, sp.state().name().toLowerCase(Locale.ROOT), sp.lagEvents(),
                sp.lagBytes(), sp.lagSeconds(), s.writer().forceP99Micros() / 1000.0, diskFreeBytes >> 20,
                s.streams(), sp.openFiles(), s.writer().queueDepth(),
                held > 0 ? " writes_held_ms=" + held : "",
                s.writer().storageFull() ? " STORAGE_FULL" : "",
                (sp.lastFailure() != null ? " SPLITTER_FAILING" : "")
                        + (sp.lostVersions() > 0 ? " LOST_VERSIONS=" + sp.lostVersions() : ""), ack(s.ack()),
                s.replication() == null ? "" : " " + s.replication().describe(),
                name(leds.get(Led.WRITE)), name(leds.get(Led.LAG)), name(leds.get(Led.FAULT)),
                s.replication() == null ? "" : ",replica:" + name(leds.get(Led.REPLICA)));
    }

    /**
     * The ack mode, and for a replica mode: paired or solo, what waits for the standbys and why
     * (e.g. {@code ack=replica-memory paired waiting=3/1200ms REPLICA_UNAVAILABLE reason="..."}).
     */
    static String ack(io.ringstore.writer.AckStatus a) {
        StringBuilder b = new StringBuilder("ack=").append(a.mode().configName());
        if (a.mode() == io.ringstore.replication.AckMode.LOCAL) {
            return b.toString();
        }
        b.append(a.solo() ? " solo(acks local)" : " paired");
        if (a.waitingBatches() > 0) {
            b.append(" waiting=").append(a.waitingBatches()).append('/').append(a.oldestWaitMillis()).append("ms");
        }
        if (a.replicaUnavailable()) {
            b.append(" REPLICA_UNAVAILABLE");
        }
        if (!a.lagReason().isEmpty()) {
            b.append(" reason=\"").append(a.lagReason().replace('"', '\'')).append('"');
        }
        return b.toString();
    }

    private static String name(LedPattern p) {
        return p == null ? "off" : p.name().toLowerCase(Locale.ROOT);
    }
}
