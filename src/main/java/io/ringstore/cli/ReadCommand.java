package io.ringstore.cli;

import io.ringstore.jsonlines.JsonLines;
import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.StreamPage;
import io.ringstore.read.Direction;
import java.util.Set;

/** {@code ringstore read} (one stream) and {@code ringstore read-all} (every stream, in log order). */
final class ReadCommand {
    private static final int PAGE = 1000;

    private ReadCommand() {}

    static final String READ_HELP = """
            usage: ringstore read [--socket PATH] [--from VERSION] [--count N] [--backward] [--base64] STREAM
              Prints the events of one stream, one JSON line each:
                {"stream":..,"version":..,"position":..,"type":..,"id":..,"time":..,"data":..,"metadata":..}
              data/metadata that are not UTF-8 JSON print as null with "data_base64"/"metadata_base64".

              --from VERSION   first version (forward, default 0) or highest version (backward, default the end)
              --count N        at most N events (default all)
              --backward       newest first
              --base64         always print data and metadata as base64 (exact bytes)
              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 6 cannot connect, 7 stream not found, 9 bad input, 10 access denied
            """;

    static final String READ_ALL_HELP = """
            usage: ringstore read-all [--socket PATH] [--from POSITION] [--count N] [--base64]
              Prints the events of every stream in log ($all) order, one JSON line each, up to what
              was committed when the read reached the end. Events past their stream's retention
              limits are left out, as a stream read leaves them out; $$STREAM metadata events are not.

              --from POSITION  the position of an event to start at (default: the start)
              --count N        at most N events (default all)
              --base64         always print data and metadata as base64 (exact bytes)
              --socket PATH    daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 6 cannot connect, 9 bad input (not an event's position), 10 access denied
            """;

    static int read(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(READ_HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        String stream;
        long from;
        long count;
        try {
            a = Args.parse(args, Set.of("--socket", "--from", "--count"), Set.of("--backward", "--base64"), 1);
            if (a.positional().isEmpty()) {
                throw new Args.UsageException("a stream is needed: read STREAM");
            }
            stream = a.positional().getFirst();
            from = a.getLong("--from", a.has("--backward") ? -1 : 0);
            count = a.getLong("--count", Long.MAX_VALUE);
        } catch (Args.UsageException e) {
            console.err().println("read: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        Direction direction = a.has("--backward") ? Direction.BACKWARD : Direction.FORWARD;
        boolean base64 = a.has("--base64");
        RingStoreClient client = DaemonCommand.connect("read", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            long left = count;
            long next = from;
            while (left > 0) {
                StreamPage page = client.readStream(stream, next, (int) Math.min(PAGE, left), direction).join();
                for (RecordedEvent e : page.events()) {
                    console.out().println(JsonLines.eventLine(e.toEvent(), base64));
                }
                console.out().flush();
                left -= page.events().size();
                if (page.endOfStream() || page.events().isEmpty()) {
                    break;
                }
                next = page.nextVersion();
            }
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.out().flush();
            console.err().println("read: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }

    static int readAll(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(READ_ALL_HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        long from;
        long count;
        try {
            a = Args.parse(args, Set.of("--socket", "--from", "--count"), Set.of("--base64"));
            from = a.getLong("--from", 0);
            count = a.getLong("--count", Long.MAX_VALUE);
        } catch (Args.UsageException e) {
            console.err().println("read-all: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        boolean base64 = a.has("--base64");
        RingStoreClient client = DaemonCommand.connect("read-all", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            long left = count;
            long next = from;
            while (left > 0) {
                AllPage page = client.readAll(next, (int) Math.min(PAGE, left)).join();
                for (RecordedEvent e : page.events()) {
                    console.out().println(JsonLines.eventLine(e.toEvent(), base64));
                }
                console.out().flush();
                left -= page.events().size();
                // A page may hold no events and still not be the end: it skipped events hidden
                // by stream limits. Only end (or the count) stops the paging.
                if (page.end()) {
                    break;
                }
                next = page.nextPosition();
            }
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.out().flush();
            console.err().println("read-all: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
