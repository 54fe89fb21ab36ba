package io.ringstore.cli;

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
            usage: ringstore status [--socket PATH]
              Prints the daemon's state as one JSON object: committed_position, streams,
              events_appended, force latencies, queue_depth, storage_full, the splitter's state and lag,
              what the status LEDs show, connections, subscriptions, and what this user may do (access).

              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 6 cannot connect, 10 access denied
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket"), Set.of());
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
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("committed_position", s.getCommittedPosition());
            m.put("oldest_position", s.getOldestPosition());
            m.put("segments", s.getSegments());
            m.put("streams", s.getStreams());
            m.put("events_appended", s.getEventsAppended());
            m.put("batches", s.getBatches());
            m.put("forces", s.getForces());
            m.put("force_p50_micros", s.getForceP50Micros());
            m.put("force_p99_micros", s.getForceP99Micros());
            m.put("queue_depth", s.getQueueDepth());
            m.put("storage_full", s.getStorageFull());
            m.put("disk_budget_bytes", s.getDiskBudgetBytes() == 0 ? null : s.getDiskBudgetBytes());
            m.put("disk_used_bytes", s.getDiskBudgetBytes() == 0 ? null : s.getDiskUsedBytes());
            m.put("retention_files_rewritten", s.getRetentionFilesRewritten());
            m.put("retention_bytes_freed", s.getRetentionBytesFreed());
            m.put("last_error", s.getLastError().isEmpty() ? null : s.getLastError());
            m.put("durability", s.getDurability().name().replace("DURABILITY_", "").toLowerCase(Locale.ROOT));
            m.put("splitter", s.getSplitterState());
            m.put("splitter_lag_events", s.getSplitterLagEvents());
            m.put("splitter_lag_bytes", s.getSplitterLagBytes());
            m.put("splitter_lag_seconds", Math.round(s.getSplitterLagSeconds() * 10) / 10.0);
            Map<String, Object> leds = new LinkedHashMap<>();
            leds.put("enabled", s.getLedsEnabled());
            leds.put("write", s.getLedWrite().isEmpty() ? null : s.getLedWrite());
            leds.put("lag", s.getLedLag().isEmpty() ? null : s.getLedLag());
            leds.put("fault", s.getLedFault().isEmpty() ? null : s.getLedFault());
            m.put("leds", leds);
            m.put("connections", s.getConnections());
            m.put("subscriptions", s.getSubscriptions());
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
            m.put("access", s.getAccess().name().replace("ACCESS_", "").toLowerCase(Locale.ROOT).replace('_', '-'));
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("status: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
