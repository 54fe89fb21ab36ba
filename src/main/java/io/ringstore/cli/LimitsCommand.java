package io.ringstore.cli;

import io.ringstore.jsonlines.Json;
import io.ringstore.jsonlines.JsonLines;
import io.ringstore.client.RingStoreClient;
import io.ringstore.protocol.v1.GetStreamLimitsResponse;
import io.ringstore.protocol.v1.StreamLimits;
import io.ringstore.retention.RetentionOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code ringstore limits} (show or set a stream's retention limits) and {@code ringstore delete}. */
final class LimitsCommand {
    private LimitsCommand() {}

    static final String LIMITS_HELP = """
            usage: ringstore limits [--socket PATH] [--max-count N] [--max-age T] [--truncate-before V] [--clear] STREAM
              With no limit option, prints the stream's limits as one JSON line: its own ("own"),
              what applies after its name prefix's limits from the daemon's config ("effective"),
              and whether it is deleted. With options, sets the stream's own limits, replacing
              the earlier ones (a limit not given is no longer set; --clear sets none), and prints
              the metadata event's position. Reads never return events past a limit; the space
              they take is reclaimed in the background.

              --max-count N        keep the newest N events (N >= 1)
              --max-age T          keep events younger than T: a number with s, m, h or d (e.g. 30d)
              --truncate-before V  hide versions below V (only moves up)
              --socket PATH        daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 done, 2 usage, 6 cannot connect, 9 bad input, 10 access denied, 11 refused (stream deleted)
            """;

    static final String DELETE_HELP = """
            usage: ringstore delete [--socket PATH] [--hard] [--expected E] STREAM
              Soft delete (default): hides every event of the stream written so far; it may be
              written again, and its versions go on. --hard: a tombstone; every later append, read
              or limit change of the stream is refused with STREAM_DELETED, for good. Either way
              the events' space is reclaimed in the background. Prints the position of the
              metadata event that records it. --expected (any, no-stream, stream-exists or a
              version number, as for append): delete only if the stream's last version is that;
              otherwise nothing is deleted and the exit code is 8.

            exit codes: 0 done, 2 usage, 6 cannot connect, 7 stream not found (soft), 8 wrong expected
                        version, 10 access denied, 11 refused (already hard-deleted)
            """;

    static int limits(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(LIMITS_HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        String stream;
        StreamLimits.Builder set = null;
        try {
            a = Args.parse(args, Set.of("--socket", "--max-count", "--max-age", "--truncate-before"), Set.of("--clear"), 1);
            if (a.positional().isEmpty()) {
                throw new Args.UsageException("a stream is needed: limits STREAM");
            }
            stream = a.positional().getFirst();
            if (a.has("--max-count") || a.has("--max-age") || a.has("--truncate-before") || a.has("--clear")) {
                set = StreamLimits.newBuilder();
                if (a.has("--max-count")) {
                    long n = a.getLong("--max-count", 0);
                    if (n < 1) {
                        throw new Args.UsageException("--max-count must be >= 1");
                    }
                    set.setMaxCount(n);
                }
                if (a.has("--max-age")) {
                    try {
                        set.setMaxAgeSeconds(RetentionOptions.parseSeconds(a.get("--max-age", "")));
                    } catch (IllegalArgumentException e) {
                        throw new Args.UsageException("--max-age: " + e.getMessage());
                    }
                }
                if (a.has("--truncate-before")) {
                    long v = a.getLong("--truncate-before", 0);
                    if (v < 0) {
                        throw new Args.UsageException("--truncate-before must be >= 0");
                    }
                    set.setTruncateBefore(v);
                }
            }
        } catch (Args.UsageException e) {
            console.err().println("limits: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        RingStoreClient client = DaemonCommand.connect("limits", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            Map<String, Object> m;
            if (set != null) {
                m = new LinkedHashMap<>();
                m.put("stream", stream);
                m.put("position", client.setStreamLimits(stream, set.build()).join());
            } else {
                m = JsonLines.limitsObject(stream, client.getStreamLimits(stream).join());
            }
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("limits: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }

    static int delete(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(DELETE_HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        String stream;
        io.ringstore.writer.ExpectedVersion expected;
        try {
            a = Args.parse(args, Set.of("--socket", "--expected"), Set.of("--hard"), 1);
            if (a.positional().isEmpty()) {
                throw new Args.UsageException("a stream is needed: delete STREAM");
            }
            stream = a.positional().getFirst();
            try {
                expected = JsonLines.expected(a.get("--expected", "any"));
            } catch (JsonLines.BadLineException e) {
                throw new Args.UsageException("--expected: " + e.getMessage());
            }
        } catch (Args.UsageException e) {
            console.err().println("delete: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        RingStoreClient client = DaemonCommand.connect("delete", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            long position = client.deleteStream(stream, a.has("--hard"), expected).join();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stream", stream);
            m.put("deleted", a.has("--hard") ? "hard" : "soft");
            m.put("position", position);
            console.out().println(Json.write(m));
            console.out().flush();
            return ExitCodes.OK;
        } catch (RuntimeException e) {
            console.err().println("delete: " + DaemonCommand.message(e));
            return DaemonCommand.exitCode(e);
        }
    }
}
