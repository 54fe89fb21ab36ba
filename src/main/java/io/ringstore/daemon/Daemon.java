package io.ringstore.daemon;

import io.ringstore.cli.ExitCodes;
import io.ringstore.log.CorruptLogException;
import io.ringstore.server.SocketFile;
import io.ringstore.server.SocketServer;
import io.ringstore.consensus.GroupOptions;
import io.ringstore.consensus.VoterGroup;
import io.ringstore.failover.Failover;
import io.ringstore.status.GroupStatus;
import io.ringstore.status.Led;
import io.ringstore.status.LedPattern;
import io.ringstore.status.LedSignals;
import io.ringstore.status.StatusReporter;
import io.ringstore.status.StoreSignals;
import io.ringstore.status.SystemdNotify;
import io.ringstore.store.DataDirLock;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.tinylog.Logger;
import sun.misc.Signal;

/**
 * The daemon's life: LEDs first (the fault light blinks while recovery runs), then the store,
 * then the socket; READY=1 to systemd once clients can be served; on SIGTERM or SIGINT: stop
 * accepting, answer what is in flight, stop the threads that watch the store (status line,
 * LEDs: they must not ask a closed store), force, checkpoint, LEDs off, exit 0.
 *
 * <p>Exit codes say what failed so that systemd can stop restarting on what a restart cannot
 * fix ({@link ExitCodes}).
 */
public final class Daemon {
    private final DaemonSettings settings;
    private final SystemdNotify notify = SystemdNotify.fromEnvironment();
    private final AtomicReference<RingStore> storeRef = new AtomicReference<>();
    private final AtomicBoolean corruptionFound = new AtomicBoolean();
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch ready = new CountDownLatch(1);
    private final boolean handleSignals;
    private StatusLights lights;
    /** NATS JetStream forwarding; null when not configured (or between a rejoin's close and reopen). */
    private volatile io.ringstore.forward.Forwarder forwarder;
    /** How long a stop waits for a watching thread (LEDs, status) to end. */
    private static final long THREAD_STOP_MILLIS = 5_000;

    public Daemon(DaemonSettings settings) {
        this(settings, true);
    }

    /** {@code handleSignals} false: only {@link #requestStop()} stops it (a daemon inside a test's JVM). */
    Daemon(DaemonSettings settings, boolean handleSignals) {
        this.settings = settings;
        this.handleSignals = handleSignals;
    }

    /** Stops the daemon as SIGTERM does. */
    void requestStop() {
        stopRequested.countDown();
    }

    /** Waits until the daemon serves clients (READY=1 sent); false on timeout. */
    boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
        return ready.await(timeout, unit);
    }

    /** Runs until SIGTERM/SIGINT; returns the process exit code. */
    public int run() {
        if (settings.witness()) {
            // A voter that holds no events: none of what follows (store, writer, splitter) runs.
            return new WitnessDaemon(settings, notify, stopRequested, ready, handleSignals).run();
        }
        StoreConfig sc = settings.store();
        Logger.info("starting: config={} data={} socket={} segmentSize={} durability={} ack={} splitter={}",
                settings.configFile() == null ? "none" : settings.configFile(), sc.dataDir(), settings.server().socket(),
                sc.segmentSize(), sc.writer().durability().name().toLowerCase(Locale.ROOT), sc.ackMode().configName(),
                sc.splitter().enabled() ? "on" : "off");
        startLeds();
        RingStore store;
        io.ringstore.replication.ReplicationOptions replication;
        try {
            replication = settings.replicationOptions();
        } catch (io.ringstore.replication.tls.TlsMaterial.BadMaterial e) {
            Logger.error("replication keys: {}", e.getMessage());
            return stopLeds(ExitCodes.USAGE);
        }
        try {
            store = RingStore.open(sc, replication);
        } catch (DataDirLock.LockedException e) {
            Logger.error(e.getMessage());
            return stopLeds(ExitCodes.LOCKED);
        } catch (CorruptLogException e) {
            Logger.error("{}", e.getMessage());
            corruptionFound.set(true);
            holdFaultLight();
            return ExitCodes.CORRUPT_LOG;
        } catch (IOException | RuntimeException e) {
            Logger.error("cannot open the store: {}", e.toString());
            return stopLeds(ExitCodes.IO_ERROR);
        }
        if (sc.repair() && (store.recovery().cutFile() != null || !store.recovery().setAside().isEmpty())) {
            corruptionFound.set(true); // the fault light stays on: a person should look
        }
        storeRef.set(store);
        // The voter group (group_voters): started once, kept across a rejoin's reopen of the store.
        if (settings.group() != null && (!startGroup() || !startFailover(store))) {
            stopGroup();
            closeQuietly(store);
            return stopLeds(ExitCodes.IO_ERROR);
        }
        SocketServer server;
        try {
            server = SocketServer.start(store, settings.server());
        } catch (SocketFile.InUseException e) {
            Logger.error("{}", e.getMessage());
            closeQuietly(store);
            return stopLeds(ExitCodes.LOCKED);
        } catch (IOException | RuntimeException e) {
            Logger.error("cannot serve the socket: socket={} error={}", settings.server().socket(), e.toString());
            closeQuietly(store);
            return stopLeds(ExitCodes.IO_ERROR);
        }
        addStatusExtras(server);
        // MQTT in: a client of the store like a socket connection; it asks storeRef for the
        // store on every append, so a store reopened to rejoin is used without a restart.
        mqtt = settings.mqtt().enabled() ? io.ringstore.mqtt.MqttIngress.start(settings.mqtt(), storeRef::get) : null;
        startForwarder(store);
        StatusReporter reporter = new StatusReporter(store, notify, this::ledPatterns, settings.statusIntervalSeconds());
        addLineParts(reporter);
        reporter.group(groupStatus);
        Thread reporterThread = Thread.ofPlatform().name("ringstore-status").daemon().start(reporter);

        if (handleSignals) {
            for (String name : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(name), signal -> stopRequested.countDown());
            }
        }
        String line = reporter.currentLine();
        notify.ready(line);
        Logger.info("ready: position={} socket={} json_socket={}", store.committedPosition(), server.socketPath(),
                server.jsonSocketPath() == null ? "off" : server.jsonSocketPath());
        Logger.info(line);
        ready.countDown();
        try {
            while (!stopRequested.await(REJOIN_CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
                if (store.replication() == null || !store.replication().restartRequired()) {
                    continue;
                }
                // A fenced primary (or a standby whose log must be cut below what it serves)
                // rejoins without the service manager: the store is reopened in this process,
                // which sets the divergent tail aside and follows the new primary. Clients see
                // their connections end, as at a restart.
                Logger.warn("reopening the store to rejoin as a standby: {}", store.replication().restartReason());
                try {
                    server.close();
                } catch (IOException e) {
                    Logger.error("closing the socket failed: {}", e.toString());
                }
                reporter.stop();
                reporterThread.interrupt();
                join(reporterThread);
                stopForwarder();
                storeRef.set(null);
                stopFailover();
                try {
                    store.close();
                    store = RingStore.open(sc, replication);
                    storeRef.set(store);
                    if (settings.group() != null && !startFailover(store)) {
                        throw new IOException("automatic failover did not start on the reopened store");
                    }
                    server = SocketServer.start(store, settings.server());
                } catch (IOException | RuntimeException e) {
                    Logger.error("rejoining failed, exiting so that the service manager restarts the daemon: {}", e.toString());
                    return stopLeds(ExitCodes.IO_ERROR);
                }
                addStatusExtras(server);
                startForwarder(store);
                reporter = new StatusReporter(store, notify, this::ledPatterns, settings.statusIntervalSeconds());
                addLineParts(reporter);
                reporter.group(groupStatus);
                reporterThread = Thread.ofPlatform().name("ringstore-status").daemon().start(reporter);
                Logger.info("rejoined: role={} position={}", store.replication().role().configName(),
                        store.committedPosition());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }

        Logger.info("stopping");
        notify.stopping();
        try {
            server.close();
        } catch (IOException e) {
            Logger.error("closing the socket failed: {}", e.toString());
        }
        if (mqtt != null) {
            // Before the store closes: the round being stored is finished and acknowledged.
            mqtt.close();
        }
        // Before the store closes: these threads ask it for its status every tick.
        reporter.stop();
        reporterThread.interrupt();
        join(reporterThread);
        stopLedThread();
        // Before the store closes: it reads the log, holds it, and writes its checkpoint last.
        stopForwarder();
        stopFailover();
        stopGroup();
        int code = ExitCodes.OK;
        try {
            store.close();
        } catch (IOException e) {
            Logger.error("clean stop failed: {}", e.toString());
            code = ExitCodes.IO_ERROR;
        }
        return stopLeds(code);
    }

    // ------------------------------------------------------------------ the voter group (group_voters)

    private volatile VoterGroup voter;
    private volatile GroupStatus groupStatus;

    /** Starts this data board's voter; false (logged) when it cannot. */
    private boolean startGroup() {
        GroupConfig g = settings.group();
        try {
            voter = VoterGroup.start(new GroupOptions(g.board(), g.voters(), g.listen(),
                    settings.store().dataDir().resolve("group"), settings.groupSockets(), g.electionTimeoutMillis(),
                    g.heartbeatMillis(), GroupOptions.DEFAULT_REQUEST_TIMEOUT_MILLIS));
        } catch (io.ringstore.replication.tls.TlsMaterial.BadMaterial | IOException | RuntimeException e) {
            Logger.error("cannot start the voter: listen={} error={}", g.listen(), e.toString());
            return false;
        }
        groupStatus = new GroupStatus(g.board(), g.voters(), GroupStatus.of(voter));
        Logger.info("group: board={} voters={} listen={} election_timeout_ms={} failover_after_ms={} primary_lease_ms={}",
                g.board(), g.voters(), g.listen(), g.electionTimeoutMillis(), g.failoverAfterMillis(), g.primaryLeaseMillis());
        if (settings.store().ackMode() == io.ringstore.replication.AckMode.LOCAL) {
            Logger.warn("group: ack_mode is local: no automatic failover (a local primary promises nothing about what "
                    + "its standbys hold, so the group never promotes one); the lease still stops a primary cut off "
                    + "from the voters. Use replica-memory or replica-durable for failover");
        }
        return true;
    }

    private volatile Failover failover;

    /** Starts automatic failover on this store (after it opened; again after each reopen); false (logged) when it cannot. */
    private boolean startFailover(RingStore store) {
        try {
            Failover f = new Failover(io.ringstore.failover.Group.of(voter), store, settings.group().failoverOptions());
            f.start();
            failover = f;
            return true;
        } catch (IllegalArgumentException e) {
            Logger.error("automatic failover cannot start: {}", e.getMessage());
            return false;
        }
    }

    /** Before the store closes: failover gates the store's acknowledgements and reads its replication. */
    private void stopFailover() {
        Failover f = failover;
        failover = null;
        if (f != null) {
            try {
                f.close();
            } catch (RuntimeException e) {
                Logger.error("stopping automatic failover failed: {}", e.toString());
            }
        }
    }

    private void stopGroup() {
        VoterGroup v = voter;
        if (v != null) {
            try {
                v.close();
            } catch (RuntimeException e) {
                Logger.error("leaving the group failed: {}", e.toString());
            }
        }
    }

    /** How often the daemon checks whether replication asks for the store to be reopened. */
    private static final long REJOIN_CHECK_MILLIS = 500;

    /** The MQTT ingress; null when mqtt_topics is not configured. */
    private volatile io.ringstore.mqtt.MqttIngress mqtt;

    private void addLineParts(StatusReporter reporter) {
        reporter.addLinePart(this::forwardLinePart);
        if (mqtt != null) {
            reporter.addLinePart(() -> mqtt.status().linePart());
        }
    }

    private void addStatusExtras(SocketServer server) {
        server.statusExtras(b -> {
            if (mqtt != null) {
                io.ringstore.mqtt.MqttStatus m = mqtt.status();
                b.setMqttState(m.state()).setMqttBroker(m.broker()).setMqttMessagesStored(m.messagesStored())
                        .setMqttMessagesPerSecond(m.messagesPerSecond()).setMqttFailures(m.failures())
                        .setMqttLastError(m.lastError()).setMqttReplayed(m.replayed());
            }
            Map<Led, LedPattern> p = ledPatterns();
            b.setLedsEnabled(lights != null && lights.driven())
                    .setLedWrite(name(p.get(Led.WRITE))).setLedLag(name(p.get(Led.LAG))).setLedFault(name(p.get(Led.FAULT)));
            if (storeRef.get() != null && storeRef.get().replication() != null) {
                b.setLedReplica(name(p.get(Led.REPLICA)));
            }
            io.ringstore.forward.Forwarder fw = forwarder;
            if (fw != null) {
                fw.status().writeTo(b);
            }

            GroupStatus g = groupStatus;
            if (g != null) {
                g.fill(b);
            }
            Failover f = failover;
            if (f != null) {
                b.setFailover(f.status().toProto());
            }
        });
    }

    /** Starts NATS JetStream forwarding when configured (it never stops the daemon from serving). */
    private void startForwarder(RingStore store) {
        if (settings.forward() != null) {
            forwarder = io.ringstore.forward.Forwarder.start(settings.forward(), store, settings.forward().subjects().board());
        }
    }

    private void stopForwarder() {
        io.ringstore.forward.Forwarder f = forwarder;
        forwarder = null;
        if (f != null) {
            f.stop();
        }
    }

    /** The forwarder's part of the status line, or null. */
    private String forwardLinePart() {
        io.ringstore.forward.Forwarder f = forwarder;
        return f == null ? null : f.status().describe();
    }

    private Map<Led, LedPattern> ledPatterns() {
        return lights != null ? lights.patterns() : Map.of();
    }

    private LedSignals signals() {
        RingStore store = storeRef.get();
        if (store == null) {
            return corruptionFound.get()
                    ? new LedSignals(0, io.ringstore.split.SplitterState.STOPPED, false, false, false, true, false)
                    : StoreSignals.recovering();
        }
        LedSignals s = StoreSignals.from(store.status(), corruptionFound.get(), System.nanoTime());
        GroupStatus g = groupStatus;
        if (g != null && !g.view().majority()) {
            // Cut off from the group: this board takes part in no decision (and, primary, stops
            // acknowledging once its lease runs out); a person should look at the network.
            s = new LedSignals(s.groupCommits(), s.splitter(), s.lagging(), s.writersHeld(), true, s.corruptionFound(),
                    s.recovering(), s.replica());
        }
        return s;
    }

    private void startLeds() {
        lights = StatusLights.start(settings.ledsEnabled(), settings.leds(), this::signals,
                pins -> "write=" + pins.get(Led.WRITE) + " lag=" + pins.get(Led.LAG) + " fault=" + pins.get(Led.FAULT)
                        + " replica=" + pins.get(Led.REPLICA));
    }

    /** Stops the LED thread and waits for it (it turns the lights off as it ends). */
    private void stopLedThread() {
        if (lights != null) {
            lights.stopThread();
        }
    }

    /** Leaves the fault light on as the process exits (the kernel keeps the line's last value). */
    private void holdFaultLight() {
        if (lights != null) {
            lights.holdFault();
        }
    }

    private int stopLeds(int code) {
        if (lights != null) {
            lights.close();
        }
        return code;
    }

    private static void join(Thread t) {
        try {
            if (!t.join(java.time.Duration.ofMillis(THREAD_STOP_MILLIS))) {
                Logger.warn("thread {} did not stop within {} ms", t.getName(), THREAD_STOP_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String name(LedPattern p) {
        return p == null ? "off" : p.name().toLowerCase(Locale.ROOT);
    }

    private static void closeQuietly(RingStore store) {
        try {
            store.close();
        } catch (IOException e) {
            Logger.error("closing the store failed: {}", e.toString());
        }
    }
}
