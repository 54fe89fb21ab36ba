package io.ringstore.cli;

import io.ringstore.jsonlines.Json;
import io.ringstore.jsonlines.JsonLines;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.StatusResponse;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code ringstore status}: the daemon's state as one JSON line. */
final class StatusCommand {
    private StatusCommand() {}

    static final String HELP = """
            usage: ringstore status [--socket PATH] [--json | --text]
              Prints the daemon's state as one JSON object (--json, the default): committed_position,
              streams, events_appended, force latencies, queue_depth, storage_full, the splitter's state
              and lag, the ack mode, solo or paired (replication), appends waiting for the standbys and why,
              what the status LEDs show, the voter group (leader, voters reachable, each voter, the
              committed epoch, primary and in-sync set), connections, subscriptions, and what this user
              may do (access). --text: the same for people, a few lines (role, group, store, LEDs).

              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 6 cannot connect, 10 access denied
            """;

    /** {@code --text}: what a person checks first, one topic a line. */
    static String text(StatusResponse s) {
        StringBuilder b = new StringBuilder();
        String role = s.getReplicationRole().isEmpty() ? "single board (no replication)" : s.getReplicationRole();
        b.append("role: ").append(role);
        if (!s.getReplicationRole().isEmpty() && !s.getReplicationRole().equals("witness")) {
            b.append(", epoch ").append(s.getEpoch());
        }
        b.append('\n');
        if (!s.getReplicationProblem().isEmpty()) {
            b.append("problem: ").append(s.getReplicationProblem()).append('\n');
        }
        if (!s.getGroupBoard().isEmpty()) {
            b.append("group: board ").append(s.getGroupBoard()).append(", leader ")
                    .append(s.getGroupLeader().isEmpty() ? "none known" : s.getGroupLeader()).append(", voters ")
                    .append(s.getVotersReachable()).append('/').append(s.getVotersTotal()).append(" reachable")
                    .append(s.getVotersReachable() * 2 > s.getVotersTotal() ? "" : " (NO MAJORITY)").append('\n');
            b.append("committed: epoch ").append(s.getGroupEpoch()).append(", primary ")
                    .append(s.getGroupPrimary().isEmpty() ? "none yet" : s.getGroupPrimary()
                            + (s.getGroupPrimaryAddress().isEmpty() ? "" : " at " + s.getGroupPrimaryAddress()))
                    .append(", in sync ").append(s.getInSyncList().isEmpty() ? "none" : String.join(",", s.getInSyncList()))
                    .append('\n');
            for (String v : s.getVotersList()) {
                b.append("  voter ").append(v).append('\n');
            }
        }
        for (String p : s.getReplicationPeersList()) {
            b.append("  ").append(p).append('\n');
        }
        if (!s.getReplicationRole().equals("witness")) {
            b.append(String.format(Locale.ROOT, "store: committed_position %d, streams %d, events_appended %d, splitter %s"
                            + " (lag %d events), ack %s%s%s%n", s.getCommittedPosition(), s.getStreams(),
                    s.getEventsAppended(), s.getSplitterState(), s.getSplitterLagEvents(), ackMode(s.getAckMode()),
                    s.getStorageFull() ? ", STORAGE FULL" : "", s.getLastError().isEmpty() ? "" : ", last error: "
                            + s.getLastError()));
        }
        b.append("leds: write ").append(s.getLedWrite()).append(", lag ").append(s.getLedLag()).append(", fault ")
                .append(s.getLedFault()).append(s.getLedReplica().isEmpty() ? "" : ", replica " + s.getLedReplica())
                .append(s.getLedsEnabled() ? "" : " (not driven on this board)").append('\n');
        return b.toString();
    }

    /** The ack mode's ringstore.conf name ({@code local} from a daemon that does not say). */
    static String ackMode(io.ringstore.protocol.v1.AckMode m) {
        return io.ringstore.protocol.Wire.ackMode(m).configName();
    }

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket"), Set.of("--json", "--text"));
        } catch (Args.UsageException e) {
            console.err().println("status: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        RingStoreClient client = DaemonCommand.connect("status", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            StatusResponse s = client.status().join();
            Map<String, Object> m = JsonLines.statusObject(s);
            if (!s.getReplicationRole().isEmpty()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("role", s.getReplicationRole());
                r.put("epoch", s.getEpoch());
                r.put("peers", s.getReplicationPeersList());
                r.put("standby_lag_bytes", s.getStandbyLagBytes());
                r.put("diverged_files", s.getDivergedFilesList());
                r.put("problem", s.getReplicationProblem().isEmpty() ? null : s.getReplicationProblem());
                m.put("replication", r);
            }
            console.out().print(a.has("--text") ? text(s) : Json.write(m) + "\n");
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("status: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
