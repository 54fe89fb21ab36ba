package io.ringstore.status;

import io.ringstore.split.SplitterState;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreStatus;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * Tells people and systemd how the daemon is doing: a status line in the journal every
 * interval and whenever the splitter's state or the storage fault changes; STATUS= to systemd;
 * and WATCHDOG=1 only while the writer and the splitter loops keep coming round (a force that
 * hangs stops the pings, so systemd restarts the service).
 */
public final class StatusReporter implements Runnable {
    private static final long TICK_MILLIS = 1_000;

    private final RingStore store;
    private final SystemdNotify notify;
    private final Supplier<Map<Led, LedPattern>> leds;
    private final long intervalNanos;
    private final Path dataDir;
    private final StatusLine line = new StatusLine();
    private volatile boolean stopping;
    private SplitterState lastState;
    private boolean lastFault;
    private boolean lastUnavailable;
    private boolean lastSolo;
    private long lastLineNanos;
    private long lastPingNanos;

    public StatusReporter(RingStore store, SystemdNotify notify, Supplier<Map<Led, LedPattern>> leds, long intervalSeconds) {
        this.store = store;
        this.notify = notify;
        this.leds = leds;
        this.intervalNanos = TimeUnit.SECONDS.toNanos(intervalSeconds);
        this.dataDir = store.config().dataDir();
    }

    /** The current line (also what {@code STATUS=} carries). */
    public String currentLine() {
        return format(System.nanoTime());
    }

    private synchronized String format(long now) {
        StoreStatus s = store.status();
        GroupStatus g = group;
        return line.format(s, diskFree(), leds.get(), now) + (g == null ? "" : " " + g.describe());
    }

    private volatile GroupStatus group;

    /** Adds the voter group to the line, and its changes (a voter lost or back, a new leader) to the journal. */
    public void group(GroupStatus g) {
        this.group = g;
    }

    private long diskFree() {
        // statvfs of the folder (0 when it cannot be asked); Files.getFileStore would need the
        // folder in the mount table, which a chroot or container may not show.
        return dataDir.toFile().getUsableSpace();
    }

    @Override
    public void run() {
        lastLineNanos = System.nanoTime();
        // The daemon logs a line when it is ready: start from that state, not from nothing.
        StoreStatus first = store.status();
        lastState = first.splitter().state();
        lastFault = first.writer().storageFull();
        lastSolo = first.ack().solo();
        while (!stopping) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            tick(System.nanoTime());
        }
    }

    /** One step: watchdog, and a status line when due or when something changed. */
    void tick(long now) {
        StoreStatus s = store.status();
        long watchdogMicros = notify.watchdogMicros();
        if (watchdogMicros > 0 && now - lastPingNanos >= watchdogMicros * 1_000 / 3) {
            long staleNanos = watchdogMicros * 1_000 * 3 / 4;
            boolean writerAlive = now - store.writerHeartbeatNanos() < staleNanos;
            boolean splitterAlive = s.splitter().state() == SplitterState.STOPPED
                    || now - store.splitter().heartbeatNanos() < staleNanos;
            if (writerAlive && splitterAlive) {
                notify.watchdog();
                lastPingNanos = now;
            } else {
                Logger.error("no watchdog ping: writer {} splitter {} (systemd will restart the service if this lasts)",
                        writerAlive ? "ok" : "stuck", splitterAlive ? "ok" : "stuck");
            }
        }
        boolean unavailable = s.ack().replicaUnavailable();
        boolean fault = s.writer().storageFull() || s.writer().recentError(now, StoreSignals.ERROR_HOLD_NANOS)
                || unavailable;
        GroupStatus g = group;
        boolean changed = s.splitter().state() != lastState || fault != lastFault || unavailable != lastUnavailable
                || s.ack().solo() != lastSolo;
        changed |= g != null && g.tick();
        if (changed || now - lastLineNanos >= intervalNanos) {
            String text = format(now);
            if (fault) {
                Logger.warn(text);
            } else {
                Logger.info(text);
            }
            notify.status(text);
            lastState = s.splitter().state();
            lastFault = fault;
            lastUnavailable = unavailable;
            lastSolo = s.ack().solo();
            lastLineNanos = now;
        }
    }

    public void stop() {
        stopping = true;
    }
}
