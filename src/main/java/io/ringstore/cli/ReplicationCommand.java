package io.ringstore.cli;

import io.ringstore.replication.tls.BoardKeys;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** {@code ringstore replication <subcommand>}: the operator's replication commands. */
final class ReplicationCommand {
    private ReplicationCommand() {}

    static final String USAGE = """
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
}
