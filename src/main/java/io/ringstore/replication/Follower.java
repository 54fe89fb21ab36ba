package io.ringstore.replication;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.ExecutionException;
import org.tinylog.Logger;

/**
 * A standby's connection to the primary: says hello with what it holds, hands shipped frames to
 * the {@link StandbyApplier} (which writes them on the writer thread) and reports back held and
 * durable positions as they move. Reconnects when the connection ends; follows a cut when the
 * primary says this board's log went past the end of its epoch.
 *
 * <p>It also remembers what promotion needs to decide safely: whether, since this board started,
 * it has been welcomed by a live primary; the primary's ack mode and the last committed
 * (acknowledged) position it was told; and whether it held that much at some point.
 */
public final class Follower implements Runnable {
    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    private static final long RETRY_MILLIS = 500;

    /** What this standby knows of its primary, for status and for promotion. */
    public record PrimaryView(boolean welcomedSinceStart, String board, long epoch, AckMode mode, long toldCommitted,
                              boolean caughtUpSinceStart, boolean connected, String lastRefusal) {}

    private final ReplicationOptions options;
    private final Replication node;
    private final StandbyApplier applier;
    private final long segmentSize;
    private volatile ReplicationOptions.Peer primary;
    private volatile boolean stopping;
    private volatile Socket socket;
    private volatile boolean welcomed;
    private volatile String primaryBoard = "";
    private volatile long primaryEpoch = -1;
    private volatile AckMode primaryMode = AckMode.LOCAL;
    private volatile long toldCommitted = -1;
    private volatile boolean caughtUp;
    private volatile boolean connected;
    private volatile String lastRefusal = "";
    private volatile EpochHistory primaryHistory;
    private int failedConnects;

    Follower(ReplicationOptions options, Replication node, StandbyApplier applier, long segmentSize,
             ReplicationOptions.Peer primary) {
        this.options = options;
        this.node = node;
        this.applier = applier;
        this.segmentSize = segmentSize;
        this.primary = primary;
        applier.onRefused(this::dropConnection);
    }

    public PrimaryView view() {
        return new PrimaryView(welcomed, primaryBoard, primaryEpoch, primaryMode, toldCommitted, caughtUp, connected,
                lastRefusal);
    }

    /** What the primary last said it had acknowledged (-1 before it said): a read, no allocation. */
    long toldCommitted() {
        return toldCommitted;
    }

    /** The primary's epoch history as it last sent it (null before a welcome). */
    EpochHistory primaryHistory() {
        return primaryHistory;
    }

    public ReplicationOptions.Peer primaryPeer() {
        return primary;
    }

    /**
     * Follows {@code to} from the next connection on (the failover group named it primary): the
     * current connection is dropped; "caught up" must be earned again with the new primary.
     */
    void switchTo(ReplicationOptions.Peer to) {
        primary = to;
        caughtUp = false;
        dropConnection();
    }

    void stop() {
        stopping = true;
        dropConnection();
    }

    private void dropConnection() {
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // Closing is all we wanted.
            }
        }
    }

    @Override
    public void run() {
        while (!stopping) {
            try {
                session();
            } catch (InterruptedException e) {
                return;
            } catch (PeerRefusedException e) {
                // Keys or configuration: retrying soon will not help.
                lastRefusal = "TLS: " + e.reason();
                if (++failedConnects % 10 == 1) {
                    Logger.error("replication: the primary and this board refused each other primary={} reason={}", primary,
                            e.reason());
                }
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException ie) {
                    return;
                }
            } catch (java.net.ConnectException e) {
                if (!stopping && ++failedConnects % 10 == 0) {
                    Logger.info("replication: cannot reach the primary primary={} attempts={} error={}", primary,
                            failedConnects, e.toString());
                    findPrimary();
                }
            } catch (IOException e) {
                if (!stopping) {
                    Logger.info("replication: connection to the primary ended primary={} error={}", primary, e.toString());
                }
            } finally {
                connected = false;
                socket = null;
            }
            if (stopping) {
                return;
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One connection: hello, then frames until it ends. */
    private void session() throws IOException, InterruptedException {
        // Everything from an earlier connection is applied first: the hello says where we are.
        java.util.concurrent.CompletableFuture<Void> drained = applier.barrier();
        while (true) {
            try {
                drained.get(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                break;
            } catch (ExecutionException e) {
                throw new IOException(e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                if (stopping) {
                    return;
                }
            }
        }
        ReplicationOptions.Peer to = primary;
        try (PeerConnection c = options.sockets().connect(to.address(), to.board(), CONNECT_TIMEOUT_MILLIS)) {
            Socket s = c.socket();
            socket = s;
            if (stopping) {
                return;
            }
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
            long end = applier.held();
            // Nothing is applied meanwhile (no connection): the held tail is stable to read.
            long checkFrom = Math.min(node.log().committedPosition(), end);
            ReplicationWire.hello(out, new ReplicationWire.Hello(ReplicationWire.INTENT_FOLLOW, options.board(), segmentSize,
                    end, applier.durable(), checkFrom, ReplicationWire.tailCrc(node.log(), checkFrom, end), node.history()));
            ReplicationWire.Frame first = ReplicationWire.read(in);
            if (first.type() == ReplicationWire.REFUSE) {
                refused(ReplicationWire.readRefused(first));
                return;
            }
            ReplicationWire.Welcome w = ReplicationWire.readWelcome(first);
            if (w.start() != end) {
                throw new IOException("primary starts shipping at " + w.start() + " but this board holds up to " + end);
            }
            primaryBoard = w.board();
            primaryEpoch = w.epoch();
            primaryMode = w.mode();
            primaryHistory = w.history();
            toldCommitted = w.committed();
            welcomed = true;
            connected = true;
            failedConnects = 0;
            lastRefusal = "";
            Logger.info("replication: following primary={} board={} epoch={} mode={} from position={}", primary, w.board(),
                    w.epoch(), w.mode().configName(), end);
            applier.offerCommitted(w.committed());
            Thread reporter = Thread.ofPlatform().name("ringstore-standby-report").daemon().start(() -> report(out));
            try {
                while (!stopping) {
                    ReplicationWire.Frame f = ReplicationWire.read(in);
                    switch (f.type()) {
                        case ReplicationWire.DATA -> {
                            ReplicationWire.Data d = ReplicationWire.readData(f);
                            toldCommitted = Math.max(toldCommitted, d.committed());
                            applier.offerFrames(d.position(), d.committed(), d.bytes());
                        }
                        case ReplicationWire.COMMITTED -> {
                            long told = ReplicationWire.readCommitted(f);
                            toldCommitted = Math.max(toldCommitted, told);
                            applier.offerCommitted(told);
                        }
                        case ReplicationWire.REFUSE -> {
                            refused(ReplicationWire.readRefused(f));
                            return;
                        }
                        default -> throw new IOException("unexpected replication message type " + f.type());
                    }
                    if (!caughtUp && applier.held() >= toldCommitted) {
                        caughtUp = true;
                        Logger.info("replication: caught up with primary={} position={}", w.board(), applier.held());
                    }
                }
            } finally {
                s.close();
                reporter.interrupt();
                reporter.join(2_000);
            }
        }
    }

    /** Sends held and durable whenever they move (and every second, as a keep-alive). */
    private void report(DataOutputStream out) {
        long h = -1;
        long d = -1;
        try {
            while (!stopping) {
                long nh = applier.held();
                long nd = applier.durable();
                if (nh != h || nd != d) {
                    ReplicationWire.progress(out, nh, nd);
                    h = nh;
                    d = nd;
                    if (!caughtUp && nh >= toldCommitted && toldCommitted >= 0) {
                        caughtUp = true;
                    }
                }
                applier.awaitProgress(h, d, 1_000);
            }
        } catch (IOException | InterruptedException e) {
            // The session's reader sees the connection end too.
        }
    }

    /** Follows the peer that says it is primary in the newest epoch, if any does. */
    private void findPrimary() {
        long best = -1;
        for (ReplicationOptions.Peer p : options.peers()) {
            ReplicationWire.ProbeAnswer a = Replication.probe(options, p);
            if (a != null && a.primary() && a.epoch() > best) {
                best = a.epoch();
                if (!p.equals(primary)) {
                    Logger.info("replication: following {} at {} (primary in epoch {})", p.board(), p.address(), a.epoch());
                }
                primary = p;
            }
        }
    }

    private void refused(ReplicationWire.Refused r) throws IOException, InterruptedException {
        lastRefusal = r.reason() + ": " + r.message();
        switch (r.reason()) {
            case DIVERGED -> {
                if (r.position() < toldCommitted) {
                    // The primary no longer has events it told us it had acknowledged (it lost
                    // them: a power cut in replica-memory, or it was restored from an older
                    // copy). Cutting would throw them away here too.
                    Logger.error("replication: the primary's log ends at position={} but it had acknowledged up to {}: it "
                            + "lost acknowledged events that this board holds; NOT cutting. Promote this board "
                            + "(ringstore promote) or re-seed the primary from it", r.position(), toldCommitted);
                    lastRefusal = "DIVERGED below acknowledged position " + toldCommitted + ": the primary lost acknowledged "
                            + "events this board holds; promote this board";
                    Thread.sleep(5_000);
                    return;
                }
                Logger.warn("replication: the primary says this board's epoch ended at position={}: cutting there ({})",
                        r.position(), r.message());
                boolean inPlace;
                try {
                    inPlace = applier.cut(r.position()).get();
                } catch (ExecutionException e) {
                    throw new IOException("cutting the divergent tail failed", e.getCause());
                }
                if (!inPlace) {
                    node.cutNeedsRestart(r.position());
                    stopping = true;
                }
            }
            case RECLAIMED -> Logger.error("replication: the primary no longer has position={} (oldest={}): re-seed this "
                    + "board from a copy of the primary's data folder", applier.held(), r.position());
            case NOT_PRIMARY -> {
                Logger.warn("replication: {} is not the primary ({}); asking the peers who is", primary, r.message());
                findPrimary();
            }
            default -> Logger.error("replication: the primary refused this standby reason={} message={}", r.reason(),
                    r.message());
        }
    }
}
