package io.ringstore.replication;

import io.ringstore.log.CorruptLogException;
import io.ringstore.log.MainLog;
import io.ringstore.log.PositionReclaimedException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.function.Consumer;
import org.tinylog.Logger;

/**
 * One connection on the replication port. Reads the hello; answers a probe with this board's
 * epoch and role; otherwise decides whether it can ship to this standby (a peer, same segment
 * size, this board primary, the standby's log not past where its epoch ended here, its position
 * not reclaimed) and then ships the log from where the standby's ends, byte for byte, as the
 * writer writes it: up to the written position, which runs ahead of the committed one (the
 * replica ack modes commit only once the standbys hold a batch). Catching up reads sealed
 * segments through their mappings, without holding the writer. A second thread reads the
 * standby's progress reports into {@link StandbyProgress}.
 */
final class Shipper implements Runnable {
    private static final int HELLO_TIMEOUT_MILLIS = 10_000;
    private static final long KEEPALIVE_MILLIS = 1_000;

    private final Socket socket;
    /** The board at the other end as the transport proved it, or (plain TCP) its address. */
    private final String provenPeer;
    private final Replication node;
    private final Consumer<Shipper> onEnd;
    private volatile boolean closed;

    Shipper(PeerConnection connection, Replication node, Consumer<Shipper> onEnd) {
        this.socket = connection.socket();
        this.provenPeer = connection.peer();
        this.node = node;
        this.onEnd = onEnd;
    }

    void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // Closing is all we wanted.
        }
    }

    @Override
    public void run() {
        String peer = String.valueOf(socket.getRemoteSocketAddress());
        try (socket) {
            socket.setSoTimeout(HELLO_TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            ReplicationWire.Hello hello;
            try {
                hello = ReplicationWire.readHello(ReplicationWire.read(in));
            } catch (IOException e) {
                Logger.warn("replication: refused a connection that did not say a valid hello peer={} error={}", peer,
                        e.getMessage());
                refuse(out, ReplicationWire.Refusal.BAD_HELLO, -1, e.getMessage());
                return;
            }
            if (hello.intent() == ReplicationWire.INTENT_PROBE) {
                ReplicationWire.probeAnswer(out, new ReplicationWire.ProbeAnswer(node.history().currentEpoch(),
                        node.acknowledging(), node.options().board()));
                return;
            }
            // Over TLS the connection's peer is the board its certificate names; over plain TCP it
            // is an address and proves nothing (the peers list below still applies).
            String proven = node.options().isPeer(provenPeer) ? provenPeer : null;
            if (proven != null && !proven.equals(hello.board())) {
                Logger.warn("replication: refused board={} whose certificate says {} peer={}", hello.board(), proven, peer);
                refuse(out, ReplicationWire.Refusal.NOT_A_PEER, -1, "the hello's board name does not match the certificate");
                return;
            }
            if (!node.options().isPeer(hello.board())) {
                Logger.warn("replication: refused board={}: not in the peers list peer={}", hello.board(), peer);
                refuse(out, ReplicationWire.Refusal.NOT_A_PEER, -1, "board " + hello.board() + " is not a peer of "
                        + node.options().board());
                return;
            }
            ship(hello, in, out, peer);
        } catch (IOException e) {
            if (!closed) {
                Logger.info("replication: connection ended peer={} error={}", peer, e.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            onEnd.accept(this);
        }
    }

    private void ship(ReplicationWire.Hello hello, DataInputStream in, DataOutputStream out, String peer)
            throws IOException, InterruptedException {
        EpochHistory mine = node.history();
        long theirEpoch = hello.history().currentEpoch();
        if (theirEpoch > mine.currentEpoch()) {
            // A board that has seen a newer epoch is following: this board was replaced.
            node.fence(hello.board(), theirEpoch);
        }
        if (!node.acknowledging()) {
            refuse(out, ReplicationWire.Refusal.NOT_PRIMARY, -1, node.notPrimaryMessage());
            return;
        }
        MainLog log = node.log();
        if (hello.segmentSize() != log.segmentSize()) {
            refuse(out, ReplicationWire.Refusal.SEGMENT_SIZE, -1, "segment size here is " + log.segmentSize()
                    + ", the standby's is " + hello.segmentSize() + ": set segment_size_mib alike and re-seed it");
            return;
        }
        long written = log.writtenPosition();
        long end = mine.endOf(theirEpoch, written);
        if (end < 0) {
            refuse(out, ReplicationWire.Refusal.DIVERGED, log.oldestPosition(), "epoch " + theirEpoch
                    + " is unknown here (epochs " + mine + "): re-seed the standby from a copy");
            return;
        }
        if (hello.logEnd() > end) {
            Logger.warn("replication: standby {} holds up to {} but its epoch {} ends here at {}: it must cut its log there",
                    hello.board(), hello.logEnd(), theirEpoch, end);
            refuse(out, ReplicationWire.Refusal.DIVERGED, end, "epoch " + theirEpoch + " ends at position " + end
                    + " on " + node.options().board());
            return;
        }
        long start = hello.logEnd();
        long oldest = log.oldestPosition();
        if (start > hello.checkFrom() && hello.checkFrom() >= oldest
                && ReplicationWire.tailCrc(log, hello.checkFrom(), start) != hello.tailCrc()) {
            // The standby holds frames past what it knows was acknowledged that differ from
            // ours: this board undid a batch (a failed force) or lost it in a power cut, and
            // wrote something else there. It cuts at what it knows was acknowledged.
            Logger.warn("replication: standby {} holds frames from {} to {} that differ from this board's: it must cut at {}",
                    hello.board(), hello.checkFrom(), start, hello.checkFrom());
            refuse(out, ReplicationWire.Refusal.DIVERGED, hello.checkFrom(), "frames from " + hello.checkFrom()
                    + " differ on " + node.options().board());
            return;
        }
        if (start < oldest) {
            Logger.error("replication: standby {} needs position={} which was reclaimed (oldest={}): re-seed it from a copy",
                    hello.board(), start, oldest);
            refuse(out, ReplicationWire.Refusal.RECLAIMED, oldest, "position " + start + " was reclaimed (oldest "
                    + oldest + "): re-seed this standby from a copy of " + node.options().board() + "'s data folder");
            return;
        }
        socket.setSoTimeout(0);
        StandbyProgress progress = node.progress();
        long committed = log.committedPosition();
        ReplicationWire.welcome(out, new ReplicationWire.Welcome(mine.currentEpoch(), node.options().board(),
                node.options().ackMode(), committed, start, mine));
        long connection = progress.connected(hello.board(), start, hello.durable());
        Logger.info("replication: shipping to standby={} from position={} peer={}", hello.board(), start, peer);
        Thread reader = Thread.ofPlatform().name("ringstore-ship-reports").daemon()
                .start(() -> readReports(in, progress, hello.board(), connection));
        String why = "connection closed";
        try {
            why = shipFrom(start, committed, log, out);
        } catch (PositionReclaimedException e) {
            why = "position reclaimed while catching up: " + e.getMessage();
            refuse(out, ReplicationWire.Refusal.RECLAIMED, log.oldestPosition(), why);
        } catch (CorruptLogException e) {
            why = e.getMessage();
        } catch (IOException e) {
            why = e.toString();
            throw e;
        } finally {
            progress.disconnected(hello.board(), connection, why);
            close();
            reader.join(2_000);
            Logger.info("replication: stopped shipping to standby={} reason={}", hello.board(), why);
        }
    }

    /** Ships until the connection ends; returns why it stopped. */
    private String shipFrom(long start, long committed, MainLog log, DataOutputStream out)
            throws IOException, InterruptedException {
        long shipped = start;
        long sentCommitted = committed;
        long lastSend = System.nanoTime();
        while (!closed) {
            if (!node.acknowledging()) {
                refuse(out, ReplicationWire.Refusal.NOT_PRIMARY, -1, node.notPrimaryMessage());
                return "this board is no longer the primary";
            }
            long written = log.writtenPosition();
            long c = log.committedPosition();
            if (written < shipped) {
                // A failed force undid frames this standby may hold: it says hello again and
                // learns where to cut.
                return "the written position moved back (a force failed): the standby reconnects and cuts";
            }
            MainLog.RawFrames f = shipped < written ? log.copyFrames(shipped, written, ReplicationWire.MAX_DATA) : null;
            if (f != null) {
                ReplicationWire.data(out, f.position(), c, f.bytes());
                shipped = f.end();
                sentCommitted = c;
                lastSend = System.nanoTime();
                continue;
            }
            if (c != sentCommitted || System.nanoTime() - lastSend > KEEPALIVE_MILLIS * 1_000_000L) {
                ReplicationWire.committed(out, c);
                sentCommitted = c;
                lastSend = System.nanoTime();
            }
            out.flush();
            log.awaitProgress(written, c, KEEPALIVE_MILLIS);
        }
        return "closed";
    }

    private void readReports(DataInputStream in, StandbyProgress progress, String board, long connection) {
        try {
            while (!closed) {
                ReplicationWire.Progress p = ReplicationWire.readProgress(ReplicationWire.read(in));
                progress.report(board, connection, p.held(), p.durable());
            }
        } catch (IOException e) {
            close();
        }
    }

    private void refuse(DataOutputStream out, ReplicationWire.Refusal reason, long position, String message) {
        try {
            ReplicationWire.refuse(out, new ReplicationWire.Refused(reason, node.history().currentEpoch(), position,
                    String.valueOf(message)));
        } catch (IOException e) {
            // The peer is gone; nothing else to tell it.
        }
    }
}
