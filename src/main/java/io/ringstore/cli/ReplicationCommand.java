package io.ringstore.cli;

import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.SetSoloResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ringstore replication solo|paired}: the operator's explicit choice to let a replica-mode
 * store acknowledge alone while its standby is gone, and to require the standby again. The daemon
 * records it in the journal with who asked.
 */
final class ReplicationCommand {
    private ReplicationCommand() {}

    static final String HELP = """
            usage: ringstore replication solo|paired [--socket PATH]
              solo     acknowledge appends on this board alone (ack_mode local in every answer) while
                       the standby is gone: appends no longer wait for it or fail with
                       REPLICA_UNAVAILABLE. What is acknowledged while solo exists on this board only
                       until a standby catches up: losing this board then loses it.
              paired   require the standbys again (the configured ack_mode); appends wait for them.
              Both are recorded in the daemon's journal. A restarted daemon is always paired.
              Prints {"replication":"solo"|"paired","ack_mode":...,"changed":true|false}.

              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 2 usage, 6 cannot connect, 9 the daemon's ack_mode is local, 10 access denied
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket"), Set.of(), 1);
        } catch (Args.UsageException e) {
            console.err().println("replication: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        List<String> pos = a.positional();
        if (pos.size() != 1 || !(pos.getFirst().equals("solo") || pos.getFirst().equals("paired"))) {
            console.err().println("replication: say solo or paired (see --help)");
            return ExitCodes.USAGE;
        }
        boolean solo = pos.getFirst().equals("solo");
        RingStoreClient client = DaemonCommand.connect("replication", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            SetSoloResponse r = client.setSolo(solo).join();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("replication", r.getSolo() ? "solo" : "paired");
            m.put("ack_mode", StatusCommand.ackMode(r.getAckMode()));
            m.put("changed", r.getChanged());
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("replication: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
