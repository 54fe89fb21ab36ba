package io.ringstore.cli;

import io.ringstore.client.RingStoreClient;
import io.ringstore.jsonlines.Json;
import io.ringstore.protocol.v1.SetSoloResponse;
import io.ringstore.replication.tls.BoardKeys;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code ringstore replication <subcommand>}: the operator's replication commands. */
final class ReplicationCommand {
    private ReplicationCommand() {}

    static final String USAGE = """
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

            usage: ringstore replication keygen --name BOARD --dir FOLDER [--days N] [--owner USER]
              Makes this board's replication key, once per board (run it on the board itself):
                FOLDER/BOARD.p12  private key and certificate (mode 0600); stays on this board:
                                  replication_key_store = FOLDER/BOARD.p12
                FOLDER/BOARD.crt  certificate; copy it to every other board's replication_peer_certs
                                  folder (keep the name BOARD.crt)
              BOARD is this board's name as the other boards list it in replication_peers
              (a-z, 0-9, '-', '_'). Existing keys are never overwritten.
              --days N      certificate validity (default %d; a peer refuses an expired one)
              --owner USER  owner of both files (as root, give the daemon's user: ringstore)
            Example, on board b1:
              sudo ringstore replication keygen --name b1 --dir /etc/ringstore/replication --owner ringstore
              scp /etc/ringstore/replication/b1.crt b2:/etc/ringstore/replication/peers/
            """.formatted(BoardKeys.DEFAULT_DAYS);

    static int run(String[] args, Console console) {
        if (args.length == 0 || Args.wantsHelp(args)) {
            (args.length == 0 ? console.err() : console.out()).print(USAGE);
            console.out().flush();
            return args.length == 0 ? ExitCodes.USAGE : ExitCodes.OK;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "keygen" -> keygen(rest, console);
            case "solo", "paired" -> soloOrPaired(args[0].equals("solo"), rest, console);
            default -> {
                console.err().println("replication: unknown subcommand: " + args[0]);
                console.err().print(USAGE);
                yield ExitCodes.USAGE;
            }
        };
    }

    private static int keygen(String[] args, Console console) {
        String name;
        Path dir;
        int days;
        String owner;
        try {
            Args a = Args.parse(args, Set.of("--name", "--dir", "--days", "--owner"), Set.of());
            if (!a.has("--name") || !a.has("--dir")) {
                throw new Args.UsageException("--name BOARD and --dir FOLDER are required");
            }
            name = a.get("--name", null);
            dir = Path.of(a.get("--dir", null));
            days = a.getInt("--days", BoardKeys.DEFAULT_DAYS);
            owner = a.get("--owner", null);
        } catch (Args.UsageException e) {
            console.err().println("replication keygen: " + e.getMessage());
            console.err().print(USAGE);
            return ExitCodes.USAGE;
        }
        try {
            BoardKeys.Made m = BoardKeys.generate(name, dir, days, BoardKeys.DEFAULT_START, owner);
            console.out().printf("""
                    made the replication keys of board %s:
                      %s  private key (0600): keep it here; on this board set
                          replication_key_store = %s
                      %s  certificate, SHA-256 %s
                          copy it to every peer's replication_peer_certs folder as %s.crt
                    """, name, m.keyStore(), m.keyStore().toAbsolutePath(), m.certificate(), m.fingerprint(), name);
            console.out().flush();
            return ExitCodes.OK;
        } catch (BoardKeys.KeygenException e) {
            console.err().println("replication keygen: " + e.getMessage());
            return ExitCodes.USAGE;
        }
    }

    /** The operator's explicit choice to acknowledge alone while the standby is gone, or to require it again. */
    private static int soloOrPaired(boolean solo, String[] args, Console console) {
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket"), Set.of(), 0);
        } catch (Args.UsageException e) {
            console.err().println("replication: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
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
