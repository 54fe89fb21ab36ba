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
            usage: ringstore status [--socket PATH]
              Prints the daemon's state as one JSON object: committed_position, streams,
              events_appended, force latencies, queue_depth, storage_full, the splitter's state and lag,
              the ack mode, solo or paired (replication), appends waiting for the standbys and why,
              what the status LEDs show, connections, subscriptions, and what this user may do (access);
              with MQTT in configured, "mqtt": state (connected, connecting, unreachable, refused),
              broker, messages_stored, messages_per_second, failures, replayed, last_error.
              with NATS forwarding configured, "forward": its state, lag and last error.

              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 6 cannot connect, 10 access denied
            """;

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
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("status: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
