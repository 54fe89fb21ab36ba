package io.ringstore.cli;

import java.util.Arrays;

/**
 * The one jar's entry point: {@code run} (the daemon), {@code verify} and {@code dump} (offline
 * tools for a stopped data folder) and {@code bench}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            System.out.println(USAGE);
            System.exit(args.length == 0 ? ExitCodes.USAGE : ExitCodes.OK);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int code = switch (args[0]) {
            case "run" -> RunCommand.run(rest);
            case "verify" -> io.ringstore.tools.VerifyCommand.run(rest);
            case "dump" -> io.ringstore.tools.DumpCommand.run(rest);
            case "bench" -> io.ringstore.bench.BenchCommand.run(rest);
            default -> {
                System.err.println("unknown command: " + args[0]);
                System.err.println(USAGE);
                yield ExitCodes.USAGE;
            }
        };
        System.exit(code);
    }

    static final String USAGE = """
            usage: ringstore <command> [options]
              run     [--data DIR] [--segment-size BYTES] [--durability sync|periodic|none]
                      [--force-interval-ms N] [--repair]
                      run the store (default data folder /var/lib/ringstore)
              verify  --data DIR       check every frame of a stopped data folder; exit 1 on corruption
              dump    --data DIR [--from POSITION] [--count N]
                                       print records as JSON lines
              bench   [--help]         measure the store against the storage itself
            """;
}
