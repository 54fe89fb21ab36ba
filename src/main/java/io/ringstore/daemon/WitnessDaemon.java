package io.ringstore.daemon;

import io.ringstore.cli.ExitCodes;
import io.ringstore.consensus.GroupOptions;
import io.ringstore.consensus.GroupState;
import io.ringstore.consensus.VoterGroup;
import io.ringstore.error.NotPrimaryException;
import io.ringstore.failover.Controller;
import io.ringstore.failover.Group;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.replication.tls.TlsMaterial;
import io.ringstore.server.SocketFile;
import io.ringstore.server.WitnessServer;
import io.ringstore.split.SplitterState;
import io.ringstore.status.GroupStatus;
import io.ringstore.status.Led;
import io.ringstore.status.LedPattern;
import io.ringstore.status.LedSignals;
import io.ringstore.status.SystemdNotify;
import io.ringstore.store.DataDirLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;
import sun.misc.Signal;

/**
 * {@code ringstore serve} with {@code role = witness}: a voter that holds no events. No log, no
 * writer, no splitter: only the voter group (its Raft state in {@code DATA/group}), the Unix
 * sockets answering status and refusing everything about events with NOT_PRIMARY naming the
 * primary, the status line, systemd's READY/STATUS/WATCHDOG, and the lights (fault: this board
 * reaches no majority of the voters; replica: every voter reachable). Small enough for a Pi Zero
 * with {@code -Xmx32m}.
 *
 * <p>Life: LEDs (fault blinking while starting), lock the data folder, start the voter, serve
 * the sockets, READY=1; on SIGTERM/SIGINT stop serving, leave the group, LEDs off, exit 0.
 */
final class WitnessDaemon {
    private static final long TICK_MILLIS = 1_000;

    private final DaemonSettings settings;
    private final GroupConfig config;
    private final SystemdNotify notify;
    private final CountDownLatch stopRequested;
    private final CountDownLatch ready;
    private final boolean handleSignals;
    private volatile GroupStatus group;
    private StatusLights lights;

    WitnessDaemon(DaemonSettings settings, SystemdNotify notify, CountDownLatch stopRequested, CountDownLatch ready,
                  boolean handleSignals) {
        this.settings = settings;
        this.config = settings.group();
        this.notify = notify;
        this.stopRequested = stopRequested;
        this.ready = ready;
        this.handleSignals = handleSignals;
    }

    int run() {
        Path data = settings.store().dataDir();
        Logger.info("starting: role=witness board={} config={} data={} socket={} group_listen={} voters={}", config.board(),
                settings.configFile() == null ? "none" : settings.configFile(), data, settings.server().socket(),
                config.listen(), config.voters());
        startLeds();
        if (Files.exists(data.resolve("log"))) {
            Logger.error("data folder {} holds a store's log (log/): a witness holds no events; give the witness a "
                    + "folder of its own (data = ...) or set the role of this data board", data);
            return stopLeds(ExitCodes.USAGE);
        }
        DataDirLock lock;
        try {
            lock = DataDirLock.acquire(data);
        } catch (DataDirLock.LockedException e) {
            Logger.error(e.getMessage());
            return stopLeds(ExitCodes.LOCKED);
        } catch (IOException e) {
            Logger.error("cannot open the data folder: dir={} error={}", data, e.toString());
            return stopLeds(ExitCodes.IO_ERROR);
        }
        VoterGroup voter;
        try {
            voter = VoterGroup.start(new GroupOptions(config.board(), config.voters(), config.listen(), data.resolve("group"),
                    settings.groupSockets(), config.electionTimeoutMillis(), config.heartbeatMillis(),
                    GroupOptions.DEFAULT_REQUEST_TIMEOUT_MILLIS));
        } catch (TlsMaterial.BadMaterial e) {
            Logger.error("group keys: {}", e.getMessage());
            closeQuietly(lock);
            return stopLeds(ExitCodes.USAGE);
        } catch (IOException | RuntimeException e) {
            Logger.error("cannot start the voter: listen={} error={}", config.listen(), e.toString());
            closeQuietly(lock);
            return stopLeds(ExitCodes.IO_ERROR);
        }
        // Decides who is primary while this voter leads the group (a witness is as likely to lead as a board).
        Controller controller = new Controller(Group.of(voter), config.failoverOptions(), config.board());
        GroupStatus status = new GroupStatus(config.board(), config.voters(), GroupStatus.of(voter));
        group = status;
        WitnessServer server;
        try {
            server = WitnessServer.start(settings.server(), answers(status));
        } catch (SocketFile.InUseException e) {
            Logger.error("{}", e.getMessage());
            controller.close();
            voter.close();
            closeQuietly(lock);
            return stopLeds(ExitCodes.LOCKED);
        } catch (IOException | RuntimeException e) {
            Logger.error("cannot serve the socket: socket={} error={}", settings.server().socket(), e.toString());
            controller.close();
            voter.close();
            closeQuietly(lock);
            return stopLeds(ExitCodes.IO_ERROR);
        }
        if (handleSignals) {
            for (String name : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(name), signal -> stopRequested.countDown());
            }
        }
        String line = line(status);
        notify.ready(line);
        Logger.info("ready: role=witness socket={} json_socket={} group_listen={}", server.socketPath(),
                server.jsonSocketPath() == null ? "off" : server.jsonSocketPath(), config.listen());
        Logger.info(line);
        ready.countDown();
        status.tick();
        long intervalNanos = TimeUnit.SECONDS.toNanos(settings.statusIntervalSeconds());
        long lastLine = System.nanoTime();
        long lastPing = 0;
        try {
            while (!stopRequested.await(TICK_MILLIS, TimeUnit.MILLISECONDS)) {
                long now = System.nanoTime();
                boolean changed = status.tick();
                long watchdog = notify.watchdogMicros();
                if (watchdog > 0 && now - lastPing >= watchdog * 1_000 / 3) {
                    // The group answered this tick (committed state, leader, reachability): alive.
                    notify.watchdog();
                    lastPing = now;
                }
                if (changed || now - lastLine >= intervalNanos) {
                    String text = line(status);
                    if (status.view().majority()) {
                        Logger.info(text);
                    } else {
                        Logger.warn(text);
                    }
                    notify.status(text);
                    lastLine = now;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Logger.info("stopping");
        notify.stopping();
        int code = ExitCodes.OK;
        try {
            server.close();
        } catch (IOException e) {
            Logger.error("closing the socket failed: {}", e.toString());
        }
        try {
            controller.close();
            voter.close();
        } catch (RuntimeException e) {
            Logger.error("leaving the group failed: {}", e.toString());
            code = ExitCodes.IO_ERROR;
        }
        group = null;
        closeQuietly(lock);
        return stopLeds(code);
    }

    /** {@code status role=witness board=w group=leader:a voters=3/3 epoch=2 primary=a in_sync=a,b leds=fault:off,replica:on}. */
    private String line(GroupStatus status) {
        Map<Led, LedPattern> p = patterns();
        return "status role=witness board=" + config.board() + " " + status.describe() + " leds=fault:"
                + name(p.get(Led.FAULT)) + ",replica:" + name(p.get(Led.REPLICA));
    }

    private WitnessServer.Answers answers(GroupStatus status) {
        return new WitnessServer.Answers() {
            @Override
            public StatusResponse.Builder status() {
                StatusResponse.Builder b = StatusResponse.newBuilder().setReplicationRole("witness")
                        .setSplitterState(SplitterState.STOPPED.name().toLowerCase(Locale.ROOT));
                GroupStatus.View v = status.view();
                status.fill(b);
                b.setEpoch(v.committed().epoch());
                Map<Led, LedPattern> p = patterns();
                b.setLedsEnabled(lights != null && lights.driven()).setLedWrite(name(p.get(Led.WRITE)))
                        .setLedLag(name(p.get(Led.LAG))).setLedFault(name(p.get(Led.FAULT)))
                        .setLedReplica(name(p.get(Led.REPLICA)));
                if (!v.majority()) {
                    b.setReplicationProblem("this witness reaches " + v.votersReachable() + " of " + v.total()
                            + " voters: no majority");
                }
                return b;
            }

            @Override
            public NotPrimaryException notPrimary(String what) {
                GroupState c = status.view().committed();
                String primary = c.primary().isEmpty() ? null : c.primary();
                String address = primary == null ? null : status.address(primary);
                return new NotPrimaryException("this board (" + config.board() + ") is a witness and holds no events, so "
                        + "it cannot " + what + "; " + (primary == null
                        ? "the group has committed no primary yet (ask again, or ask a data board)"
                        : "the primary is " + primary + " (epoch " + c.epoch() + ") at " + address
                        + " (its group port: use ringstore on that host)"), primary, address,
                        primary == null ? -1 : c.epoch());
            }
        };
    }

    // ------------------------------------------------------------------ lights

    private LedSignals signals() {
        GroupStatus g = group;
        if (g == null) {
            // Starting: the fault light blinks as it does during a data board's recovery.
            return new LedSignals(0, SplitterState.STOPPED, false, false, false, false, true);
        }
        GroupStatus.View v = g.view();
        return new LedSignals(0, SplitterState.STOPPED, false, false, !v.majority(), false, false,
                v.allReachable() ? LedSignals.Replica.IN_SYNC : LedSignals.Replica.DEGRADED);
    }

    private Map<Led, LedPattern> patterns() {
        return lights != null ? lights.patterns() : Map.of();
    }

    private void startLeds() {
        lights = StatusLights.start(settings.ledsEnabled(), settings.leds(), this::signals,
                pins -> "fault=" + pins.get(Led.FAULT) + " replica=" + pins.get(Led.REPLICA)
                        + " (a witness has no writes and no splitter: write and lag stay dark)");
    }

    private int stopLeds(int code) {
        if (lights != null) {
            lights.close();
        }
        return code;
    }

    private static String name(LedPattern p) {
        return p == null ? "off" : p.name().toLowerCase(Locale.ROOT);
    }

    private static void closeQuietly(DataDirLock lock) {
        try {
            lock.close();
        } catch (IOException e) {
            Logger.error("releasing the data folder failed: {}", e.toString());
        }
    }
}
