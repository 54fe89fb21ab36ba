package io.ringstore.cli;

import io.ringstore.client.RingStoreClient;
import io.ringstore.jsonlines.Json;
import io.ringstore.protocol.v1.PromoteResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code ringstore promote}: makes the local daemon's standby board the primary, by hand. */
final class PromoteCommand {
    private PromoteCommand() {}

    static final String HELP = """
            usage: ringstore promote [--socket PATH] [--force]
              Makes this board (a standby) the primary in a new epoch, starting at the end of its
              log, and prints {"epoch":N,"start_position":P,"message":"..."}. Refused unless this
              board holds everything the old primary acknowledged: in replica-memory, it caught up
              with the primary since it started; in replica-durable, it forced what the primary had
              acknowledged. The refusal says what may be lost. The old primary stops acknowledging
              as soon as it sees the new epoch, and rejoins as a standby (its divergent tail is set
              aside in <data>/diverged/).

              --force          promote anyway, accepting the loss the refusal named
              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 promoted, 6 cannot connect, 9 refused (not a standby, or not safe), 10 access denied
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket"), Set.of("--force"));
        } catch (Args.UsageException e) {
            console.err().println("promote: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        RingStoreClient client = DaemonCommand.connect("promote", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            PromoteResponse p = client.promote(a.has("--force")).join();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", p.getEpoch());
            m.put("start_position", p.getStartPosition());
            m.put("message", p.getMessage());
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("promote: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
