package io.ringstore.cli;

import java.util.Arrays;

/**
 * The one jar's entry point: {@code serve} (the daemon; {@code run} is an alias), the client
 * commands that talk to it over its socket ({@code append}, {@code read}, {@code read-all},
 * {@code subscribe}, {@code status}), {@code verify} and {@code dump} (offline tools for a stopped
 * data folder), {@code bench} and {@code replication} (keygen).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, Console.system()));
    }

    /** Runs a command; returns its exit code (tests call this with captured streams). */
    static int run(String[] args, Console console) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            (args.length == 0 ? console.err() : console.out()).print(USAGE);
            console.out().flush();
            return args.length == 0 ? ExitCodes.USAGE : ExitCodes.OK;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "serve", "run" -> ServeCommand.run(rest, console);
            case "append" -> AppendCommand.run(rest, console);
            case "read" -> ReadCommand.read(rest, console);
            case "read-all" -> ReadCommand.readAll(rest, console);
            case "subscribe" -> SubscribeCommand.run(rest, console);
            case "status" -> StatusCommand.run(rest, console);
            case "replication" -> ReplicationCommand.run(rest, console);
            case "promote" -> PromoteCommand.run(rest, console);
            case "limits" -> LimitsCommand.limits(rest, console);
            case "delete" -> LimitsCommand.delete(rest, console);
            case "verify" -> io.ringstore.tools.VerifyCommand.run(rest);
            case "dump" -> io.ringstore.tools.DumpCommand.run(rest);
            case "bench" -> io.ringstore.bench.BenchCommand.run(rest);
            default -> {
                console.err().println("unknown command: " + args[0]);
                console.err().print(USAGE);
                yield ExitCodes.USAGE;
            }
        };
    }

    static final String USAGE = """
            usage: ringstore <command> [options]      (every command takes --help)
              serve     [--data DIR] [--socket PATH] [access, limits, store options]
                        run the store and serve it on a Unix socket (alias: run)
                        (default data /var/lib/ringstore, socket /run/ringstore/ringstore.sock)
              append    [--socket PATH] STREAM TYPE [DATA]   or JSON lines on stdin
                        append events; one acknowledgement line per event
              read      [--socket PATH] [--from V] [--count N] [--backward] STREAM
                        print a stream's events as JSON lines
              read-all  [--socket PATH] [--from POSITION] [--count N]
                        print every stream's events in log order
              subscribe [--socket PATH] [--from-start|--from-end|--after-position P] [STREAM]
                        print events as they come, after catching up
              limits    [--socket PATH] [--max-count N] [--max-age T] [--truncate-before V] [--clear] STREAM
                        show or set a stream's retention limits
              delete    [--socket PATH] [--hard] STREAM
                        soft-delete a stream (it may be written again) or hard-delete it (a tombstone)
              status    [--socket PATH] [--json|--text]   the daemon's state as JSON, or for people
              replication solo|paired [--socket PATH]
                        acknowledge alone while the standby is gone (solo), or require it again (paired)
              promote   [--socket PATH] [--force]
                        make this standby the primary in a new epoch (two boards)
              verify    --data DIR       check every frame of a stopped data folder; exit 1 on corruption
              dump      --data DIR [--from POSITION] [--count N]
                                         print records as JSON lines
              bench     [--help]         measure the store against the storage itself
              replication keygen --name BOARD --dir FOLDER
                                         make this board's replication key and certificate (once per board)
            Client commands find the socket in --socket, else $RINGSTORE_SOCKET, else the default.
            """;
}
