package io.ringstore.replication;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.MainLog;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.tinylog.Logger;

/**
 * This board's part in replication: its role and epoch, the replication port, and either the
 * standbys' progress (primary) or the follower and applier (standby). Made by the store before
 * its writer thread starts (a standby's writer thread applies shipped frames instead of appends),
 * started after.
 *
 * <p>Fencing: a primary stops acknowledging (appends fail NOT_PRIMARY) as soon as it sees a
 * newer epoch: in a standby's hello, or in the answer of a peer it probes every
 * {@value #PROBE_MILLIS} ms. A primary that starts while a peer is primary in a newer epoch
 * starts as that peer's standby. A fenced primary rejoins as a standby when its store is
 * reopened (the daemon does this itself): its hello tells it where its epoch ended on the new
 * primary, and the tail past that is set aside ({@link DivergentTail}).
 *
 * <p>The role a board last took by itself (promotion, fencing) outlives a restart in the file
 * {@code role} in the data folder, which overrides ringstore.conf's {@code role}: one line of
 * UTF-8 text, {@code primary} or {@code standby <board>} (the board it follows), written whole
 * (temp, force, rename, force folder). Without it a promoted standby would restart as a standby.
 */
public final class Replication implements AutoCloseable {
    static final long PROBE_MILLIS = 2_000;
    private static final int PROBE_TIMEOUT_MILLIS = 1_000;

    private final ReplicationOptions options;
    private final StandbyApplier.Parts parts;
    private final StandbyProgress progress;
    private final Object roleLock = new Object();
    private volatile Role role;
    private volatile EpochHistory history;
    private volatile String fencedBy;
    private volatile boolean restartRequired;
    private volatile String restartReason = "";
    private volatile ReplicationOptions.Peer primaryPeer;
    private StandbyApplier applier;
    private Follower follower;
    private Thread followerThread;
    private Thread probeThread;
    private ReplicationServer server;
    private volatile boolean closed;
    /** Set by a failover group (io.ringstore.failover): why manual promotion is refused; null without one. */
    private volatile String groupManaged;

    private Replication(ReplicationOptions options, StandbyApplier.Parts parts, EpochHistory history) {
        this.options = options;
        this.parts = parts;
        this.history = history;
        this.progress = new StandbyProgress(options.peers().stream().map(ReplicationOptions.Peer::board).toList(),
                options.standbyHoldMillis(), System::nanoTime);
        parts.log().setReclaimFloor(this::reclaimFloor);
    }

    /**
     * Decides the role (a configured primary that finds a newer primary among its peers starts as
     * its standby) and, for a standby, puts the writer into follow mode. Call before the writer
     * thread starts.
     */
    public static Replication create(ReplicationOptions options, StandbyApplier.Parts parts) throws IOException {
        Replication r = new Replication(options, parts, EpochHistory.load(parts.dataDir()));
        Role role = effectiveRole(options, parts.dataDir());
        ReplicationOptions.Peer primary = options.primary();
        String follows = readRoleFile(parts.dataDir());
        if (follows != null && follows.startsWith("standby ")) {
            String board = follows.substring("standby ".length());
            for (ReplicationOptions.Peer p : options.peers()) {
                if (p.board().equals(board)) {
                    primary = p;
                }
            }
        }
        if (role == Role.STANDBY && primary == null) {
            throw new IllegalArgumentException("this board is a standby but replication_primary names no peer");
        }
        if (role == Role.PRIMARY) {
            for (ReplicationOptions.Peer peer : options.peers()) {
                ReplicationWire.ProbeAnswer a = probe(options, peer);
                if (a != null && a.primary() && a.epoch() > r.history.currentEpoch()) {
                    Logger.warn("replication: peer {} is primary in epoch {} (this board's last epoch is {}): starting as "
                            + "its standby, not as primary", peer.board(), a.epoch(), r.history.currentEpoch());
                    role = Role.STANDBY;
                    primary = peer;
                    // Written now, not left to the role file's "primary": once this board has
                    // followed the peer into its epoch, the peer's epoch is no longer newer than
                    // this board's, and a restart reading "primary" would open as a second
                    // primary of that epoch (the nemesis found it: promote b2, kill it, restart,
                    // kill it as a standby, restart: both boards primary in epoch 2). Crash
                    // window: a crash before the rename leaves the old file; the next start
                    // probes again and decides the same.
                    r.writeRoleFile("standby " + peer.board());
                    break;
                }
            }
        }
        r.role = role;
        r.primaryPeer = primary;
        if (role == Role.STANDBY) {
            r.becomeFollower(primary);
        }
        Logger.info("replication: board={} role={} epochs={}", options.board(), role.configName(), r.history);
        for (Path aside : DivergentTail.list(parts.dataDir())) {
            // Said at every start until a person moves it away: it may hold events that were
            // acknowledged by this board in an epoch that lost.
            Logger.warn("replication: a divergent log tail is set aside in file={} (events this board wrote that the "
                    + "primary does not have; see `ringstore status`)", aside);
        }
        return r;
    }

    static final String ROLE_FILE = "role";

    /** The role this board opens in: the role file's, else the configured one. */
    public static Role effectiveRole(ReplicationOptions options, Path dataDir) throws IOException {
        String line = readRoleFile(dataDir);
        if (line == null) {
            return options.role();
        }
        return line.equals("primary") ? Role.PRIMARY : Role.STANDBY;
    }

    private static String readRoleFile(Path dataDir) throws IOException {
        try {
            String line = java.nio.file.Files.readString(dataDir.resolve(ROLE_FILE)).strip();
            if (!line.equals("primary") && !line.startsWith("standby ")) {
                throw new IOException("role file damaged (expected 'primary' or 'standby <board>'): "
                        + dataDir.resolve(ROLE_FILE));
            }
            return line;
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    private void writeRoleFile(String line) throws IOException {
        Path temp = parts.dataDir().resolve(ROLE_FILE + ".tmp");
        parts.io().writeFile(temp, (line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        parts.io().rename(temp, parts.dataDir().resolve(ROLE_FILE));
        parts.io().forceDirectory(parts.dataDir());
    }

    private void becomeFollower(ReplicationOptions.Peer primary) {
        applier = new StandbyApplier(parts, () -> history.currentEpoch(), this::adoptEpochs);
        follower = new Follower(options, this, applier, parts.log().segmentSize(), primary);
        parts.writer().follow(applier);
    }

    /** Starts the port, the follower or the probes; after the writer thread has started. */
    public void start() throws IOException {
        if (options.listen() != null) {
            server = ReplicationServer.start(options, this);
        }
        if (role == Role.STANDBY) {
            followerThread = Thread.ofPlatform().name("ringstore-follower").daemon().start(follower);
        } else {
            startProbes();
        }
    }

    private void startProbes() {
        if (options.peers().isEmpty()) {
            return;
        }
        probeThread = Thread.ofPlatform().name("ringstore-peer-probe").daemon().start(() -> {
            while (!closed && fencedBy == null) {
                try {
                    Thread.sleep(PROBE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                for (ReplicationOptions.Peer peer : options.peers()) {
                    ReplicationWire.ProbeAnswer a = probe(options, peer);
                    if (a != null && a.primary() && a.epoch() > history.currentEpoch()) {
                        fence(peer.board(), a.epoch());
                    }
                }
            }
        });
    }

    /** Asks a peer its epoch and role; null when it cannot be reached. */
    static ReplicationWire.ProbeAnswer probe(ReplicationOptions options, ReplicationOptions.Peer peer) {
        try (PeerConnection c = options.sockets().connect(peer.address(), peer.board(), PROBE_TIMEOUT_MILLIS)) {
            Socket s = c.socket();
            s.setSoTimeout(PROBE_TIMEOUT_MILLIS);
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            ReplicationWire.hello(out, new ReplicationWire.Hello(ReplicationWire.INTENT_PROBE, options.board(), 0, 0, 0, 0, 0,
                    EpochHistory.initial()));
            return ReplicationWire.readProbeAnswer(ReplicationWire.read(in));
        } catch (IOException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ what the store asks

    public ReplicationOptions options() {
        return options;
    }

    MainLog log() {
        return parts.log();
    }

    public Role role() {
        return role;
    }

    /**
     * On a standby: how far reads at {@code committed} are behind what the primary last said it
     * acknowledged, in log bytes; -1 on a primary or before the primary was heard. Cheap (reads
     * no folder): every read and subscription answer carries it.
     */
    public long behindPrimary(long committed) {
        Follower f = follower;
        if (role != Role.STANDBY || f == null) {
            return -1;
        }
        long told = f.toldCommitted();
        return told < 0 ? -1 : Math.max(0, told - committed);
    }

    public EpochHistory history() {
        return history;
    }

    /** What the standbys hold (the writer's replica modes wait on it). Valid in either role. */
    public StandbyProgress progress() {
        return progress;
    }

    /** Whether this board acknowledges appends: primary and not fenced by a newer epoch. */
    public boolean acknowledging() {
        return role == Role.PRIMARY && fencedBy == null;
    }

    /** The error an append gets here, or null when this board takes appends. */
    public RingStoreException appendRefusal() {
        if (acknowledging()) {
            return null;
        }
        // Where appends go, as this board knows it: the board that fenced it, or the primary it
        // follows (its replication address: its client socket is not known across boards).
        Fencer by = fencer;
        if (by != null) {
            return new io.ringstore.error.NotPrimaryException(notPrimaryMessage(), by.board(), addressOf(by.board()),
                    by.epoch());
        }
        ReplicationOptions.Peer p = primaryPeer;
        Follower f = follower;
        Follower.PrimaryView v = f == null ? null : f.view();
        long epoch = v != null && p != null && p.board().equals(v.board()) && v.epoch() >= 0 ? v.epoch() : -1;
        return new io.ringstore.error.NotPrimaryException(notPrimaryMessage(), p == null ? null : p.board(),
                p == null ? null : address(p.address()), epoch);
    }

    /** The board whose newer epoch fenced this one, and that epoch. */
    private record Fencer(String board, long epoch) {}

    private volatile Fencer fencer;

    private String addressOf(String board) {
        for (ReplicationOptions.Peer p : options.peers()) {
            if (p.board().equals(board)) {
                return address(p.address());
            }
        }
        return null;
    }

    private static String address(java.net.InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    String notPrimaryMessage() {
        if (fencedBy != null) {
            return "this board was primary until " + fencedBy + "; append there";
        }
        Follower f = follower;
        ReplicationOptions.Peer p = primaryPeer;
        return "this board (" + options.board() + ") is a standby; the primary is "
                + (p == null ? "unknown" : p.board() + " at " + p.address());
    }

    private long reclaimFloor() {
        return role == Role.PRIMARY ? progress.reclaimFloor() : Long.MAX_VALUE;
    }

    /** Whether the store must be reopened to go on (a fenced primary, or a cut below what was fed). */
    public boolean restartRequired() {
        return restartRequired;
    }

    public String restartReason() {
        return restartReason;
    }

    /**
     * A failover group committed {@code board} primary in {@code epoch}, newer than this
     * primary's: it fences itself (as when a peer shows it the newer epoch).
     */
    public void fencedByGroup(String board, long epoch) {
        fence(board, epoch);
    }

    /** A newer epoch exists elsewhere: stop acknowledging, stop shipping, and rejoin on the next open. */
    void fence(String board, long epoch) {
        synchronized (roleLock) {
            if (fencedBy != null || role != Role.PRIMARY || epoch <= history.currentEpoch()) {
                return;
            }
            String by = "board " + board + " became primary in epoch " + epoch;
            // Set before fencedBy, which readers test without the lock: whoever sees this board
            // no longer acknowledging also sees that it must reopen (FailoverTest caught the gap).
            restartReason = "fenced: " + by;
            restartRequired = true;
            fencer = new Fencer(board, epoch);
            fencedBy = by;
        }
        Logger.error("replication: FENCED: {} (this board's epoch is {}); appends are refused (NOT_PRIMARY) from now on; "
                + "this board rejoins as a standby when its store is reopened", fencedBy, history.currentEpoch());
        try {
            writeRoleFile("standby " + board);
        } catch (IOException e) {
            // The next start probes the peers and finds the newer primary anyway.
            Logger.error("replication: writing the role file failed: {}", e.toString());
        }
        if (server != null) {
            server.dropAll();
        }
    }

    /** The follower learned that the log must be cut below what the table holds: done on the next open. */
    void cutNeedsRestart(long position) throws IOException {
        DivergentTail.markPending(parts.io(), parts.dataDir(), history.currentEpoch(), position);
        restartReason = "the log must be cut at position " + position + " (set aside in " + DivergentTail.DIR
                + "/): the store reopens to do it";
        restartRequired = true;
        Logger.warn("replication: {}", restartReason);
    }

    /** Writer thread, after each applied batch: records the primary's epochs this board now holds the start of. */
    private void adoptEpochs(long held) {
        Follower f = follower;
        EpochHistory theirs = f == null ? null : f.primaryHistory();
        if (theirs == null) {
            return;
        }
        EpochHistory wanted = theirs.upTo(held);
        EpochHistory mine = history;
        if (wanted.currentEpoch() <= mine.currentEpoch()) {
            return;
        }
        try {
            wanted.write(parts.io(), parts.dataDir());
            history = wanted;
            Logger.info("replication: epochs now {}", wanted);
        } catch (IOException e) {
            Logger.error("replication: writing the epoch history failed (retried with the next batch): {}", e.toString());
        }
    }

    // ------------------------------------------------------------------ promotion

    /**
     * With a failover group, manual promotion ({@link #promote(boolean)}) is refused with
     * {@code why} (the group promotes; a board promoted behind its back would be fenced by the
     * group's next epoch, or fence the group's primary and be the second one). Null: none.
     */
    public void setGroupManaged(String why) {
        groupManaged = why;
    }

    public String groupManaged() {
        return groupManaged;
    }

    /**
     * A standby: follow {@code board} from now on (the failover group committed it primary).
     * The role file says so, so that a restart follows it too; the follower drops its connection
     * and says hello to the new primary (which tells it where to cut if its log went past the
     * new epoch's start).
     *
     * @return whether anything changed (false: already following it, not a standby, or not a peer)
     */
    public boolean followPrimary(String board) throws IOException {
        synchronized (roleLock) {
            if (role != Role.STANDBY || follower == null) {
                return false;
            }
            ReplicationOptions.Peer to = null;
            for (ReplicationOptions.Peer p : options.peers()) {
                if (p.board().equals(board)) {
                    to = p;
                }
            }
            if (to == null || to.equals(follower.primaryPeer())) {
                return false;
            }
            writeRoleFile("standby " + board);
            primaryPeer = to;
            Logger.info("replication: following {} at {} from now on (the failover group named it primary)", board,
                    to.address());
            // Not interrupted: the follower ends on an interrupt; it reconnects within its retry sleep.
            follower.switchTo(to);
            return true;
        }
    }

    /** Null when this board may be promoted now without losing acknowledged events; else why not. */
    public String unsafeToPromote() {
        if (role != Role.STANDBY || follower == null) {
            return "this board is not a standby";
        }
        return unsafeBecause(follower.view(), applier.held(), applier.durable());
    }

    /**
     * The epoch this board is in as the failover group compares it: a primary's current one; a
     * standby's is its primary's as last welcomed since start (its own history adopts a new
     * epoch only once it holds a record of it), else its own.
     */
    public long groupEpoch() {
        long mine = history.currentEpoch();
        Follower f = follower;
        if (role == Role.STANDBY && f != null) {
            Follower.PrimaryView v = f.view();
            if (v.welcomedSinceStart()) {
                return Math.max(mine, v.epoch());
            }
        }
        return mine;
    }

    /** What this board holds in memory: a standby's applied end, a primary's written end. */
    public long held() {
        StandbyApplier a = applier;
        return role == Role.STANDBY && a != null ? a.held() : parts.log().writtenPosition();
    }

    /** What this board has forced. */
    public long durable() {
        StandbyApplier a = applier;
        return role == Role.STANDBY && a != null ? a.durable() : parts.log().durablePosition();
    }

    /** What a promotion did. */
    public record Promoted(long epoch, long start, String message) {}

    /**
     * Makes this standby the primary in a new epoch starting at the end of its log, if it holds
     * everything the old primary acknowledged in its mode (or {@code force}).
     *
     * @throws RingStoreException INVALID_REQUEST when not a standby or not safe (the message says
     *         what may be lost)
     */
    public Promoted promote(boolean force) throws IOException {
        String managed = groupManaged;
        if (managed != null) {
            throw RingStoreException.invalid("promotion refused: " + managed);
        }
        return promote(force, -1);
    }

    /**
     * The failover group's promotion: like {@link #promote(boolean)} without force, into the
     * group's committed {@code epoch} (it must be newer than every epoch this board knows).
     *
     * @throws RingStoreException INVALID_REQUEST when not a standby, not safe, or the epoch is not newer
     */
    public Promoted promoteInto(long epoch) throws IOException {
        if (epoch <= 0) {
            throw new IllegalArgumentException("epoch must be positive: " + epoch);
        }
        return promote(false, epoch);
    }

    private Promoted promote(boolean force, long groupEpoch) throws IOException {
        synchronized (roleLock) {
            if (role != Role.STANDBY) {
                throw RingStoreException.invalid("this board is already the primary (epoch " + history.currentEpoch() + ")");
            }
            Follower.PrimaryView v = follower.view();
            String unsafe = unsafeBecause(v, applier.held(), applier.durable());
            if (unsafe != null && !force) {
                throw RingStoreException.invalid("promotion refused: " + unsafe + (groupEpoch > 0 ? ""
                        : "; promote with --force to accept that loss"));
            }
            long known = Math.max(history.currentEpoch(), v.epoch());
            if (groupEpoch > 0 && groupEpoch <= known) {
                throw RingStoreException.invalid("promotion refused: the group's epoch " + groupEpoch
                        + " is not newer than epoch " + known + " that this board knows");
            }
            follower.stop();
            // Wakes it from its retry sleep after losing the primary (the usual state when one is
            // promoted): without this every promotion waited out up to 500 ms of it. A queued
            // message is either handed to the applier whole or not at all.
            followerThread.interrupt();
            try {
                followerThread.join(5_000);
                parts.writer().stopFollowing().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while promoting");
            } catch (ExecutionException e) {
                throw new IOException("promotion failed: " + e.getCause(), e.getCause());
            }
            long start = applier.held();
            long epoch = groupEpoch > 0 ? groupEpoch : known + 1;
            EpochHistory next = history.with(epoch, start);
            // Crash window: the log is forced (finish()); before this write the board restarts
            // as the standby it was; after it, as primary in the new epoch.
            next.write(parts.io(), parts.dataDir());
            // Crash window: between the two writes the next start is a standby whose history
            // already has the new epoch; it is refused by the old primary (which it fences) and
            // can be promoted again, starting one epoch later at the same place. With a failover
            // group the restarted board refuses the group's epoch (not newer than its history's,
            // and it has not been welcomed since it started), says so in its beat, and the group
            // picks again in a later epoch.
            writeRoleFile("primary");
            history = next;
            role = Role.PRIMARY;
            primaryPeer = null;
            String message = unsafe == null
                    ? "safe: " + safeBecause(v, applier.held(), applier.durable())
                    : "FORCED: " + unsafe;
            Logger.warn("replication: PROMOTED to primary epoch={} start={} ({})", epoch, start, message);
            startProbes();
            return new Promoted(epoch, start, message);
        }
    }

    /** Why promoting now may lose acknowledged events, or null when it cannot. */
    static String unsafeBecause(Follower.PrimaryView v, long held, long durable) {
        if (!v.welcomedSinceStart()) {
            return "this board has not been in contact with a primary since it started, so it cannot tell what was "
                    + "acknowledged; events acknowledged after position " + held + " may be lost";
        }
        return switch (v.mode()) {
            case REPLICA_DURABLE -> durable >= v.toldCommitted() ? null
                    : "this board has forced up to " + durable + " but the primary had acknowledged up to "
                    + v.toldCommitted() + " (replica-durable)";
            case REPLICA_MEMORY -> v.caughtUpSinceStart() && held >= v.toldCommitted() ? null
                    : "this board holds up to " + held + " but the primary had acknowledged up to " + v.toldCommitted()
                    + (v.caughtUpSinceStart() ? "" : " and this board has not caught up since it started") + " (replica-memory)";
            case LOCAL -> "the primary acknowledged locally (ack_mode local): events it acknowledged after position "
                    + Math.min(held, v.toldCommitted()) + " may not be here";
        };
    }

    private static String safeBecause(Follower.PrimaryView v, long held, long durable) {
        return "the primary (" + v.board() + ", epoch " + v.epoch() + ", " + v.mode().configName()
                + ") had acknowledged up to " + v.toldCommitted() + "; this board holds " + held + ", forced " + durable;
    }

    // ------------------------------------------------------------------ status

    /** Replication as status shows it. */
    public record Status(String board, Role role, long epoch, String epochs, boolean acknowledging, String fencedBy,
                         List<StandbyProgress.Standby> standbys, Follower.PrimaryView primary, long held, long durable,
                         List<Path> diverged, String restartReason) {}

    public Status status() {
        Follower f = follower;
        StandbyApplier a = applier;
        return new Status(options.board(), role, history.currentEpoch(), history.toString(), acknowledging(), fencedBy,
                progress.standbys(), f == null || role != Role.STANDBY ? null : f.view(),
                a == null ? -1 : a.held(), a == null ? -1 : a.durable(), DivergentTail.list(parts.dataDir()), restartReason);
    }

    /** Replication at a glance for the LEDs and the status line: reads no folder. */
    public ReplicationSummary summary() {
        Role r = role;
        long epoch = history.currentEpoch();
        if (r == Role.PRIMARY) {
            long[] c = progress.counts();
            long written = parts.log().writtenPosition();
            long lag = c[1] == 0 ? 0 : Math.max(0, written - c[2]);
            return new ReplicationSummary(r, epoch, acknowledging(), (int) c[0], (int) c[1], lag, false);
        }
        Follower f = follower;
        StandbyApplier a = applier;
        Follower.PrimaryView v = f == null ? null : f.view();
        long behind = v == null || a == null ? 0 : Math.max(0, v.toldCommitted() - a.held());
        return new ReplicationSummary(r, epoch, acknowledging(), 0, 0, behind, v != null && v.connected());
    }

    /** The replication port actually bound (tests listen on port 0), or -1. */
    public int port() {
        return server == null ? -1 : server.port();
    }

    @Override
    public void close() {
        closed = true;
        if (follower != null) {
            follower.stop();
        }
        if (followerThread != null) {
            try {
                followerThread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (probeThread != null) {
            probeThread.interrupt();
        }
        if (server != null) {
            server.close();
        }
    }
}
