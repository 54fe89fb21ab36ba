package io.ringstore.cli;

import io.ringstore.jsonlines.Json;
import io.ringstore.jsonlines.JsonLines;
import io.ringstore.client.RingStoreClient;
import io.ringstore.error.RingStoreException;
import io.ringstore.error.WrongExpectedVersionException;
import io.ringstore.writer.EventData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code ringstore append}: one event from the command line, or one event per JSON line on
 * standard input with one acknowledgement line out per line in (in order; appends are pipelined
 * on one connection, which keeps their order).
 */
final class AppendCommand {
    private static final int WINDOW = 32;

    private AppendCommand() {}

    static final String HELP = """
            usage: ringstore append [--socket PATH] [options] STREAM TYPE [DATA]
                   ringstore append [--socket PATH] [--stop-on-error]  < lines
              Appends one event given on the command line, or, with no STREAM, one event per JSON
              line read from standard input:
                {"stream":"sensor-1","type":"reading","data":{"celsius":21.5}}
              optional keys: "metadata" (JSON), "data_base64"/"metadata_base64" (exact bytes),
              "id" (UUID: makes a retry idempotent), "expected_version" (any|no_stream|stream_exists|N).
              Prints one acknowledgement line per event:
                {"stream":"sensor-1","version":0,"position":4096,...}
              or, when the daemon refuses it, {"stream":..,"error":"WRONG_EXPECTED_VERSION","message":..,
              "current_version":N,"line":N}. Blank lines are skipped.

              DATA                     a JSON value (quote strings: '"text"'); stored as compact JSON text
              --data-base64 B64        the event data as exact bytes instead of DATA
              --data-file PATH         the event data as the bytes of a file
              --metadata JSON          metadata as a JSON value
              --expected E             any (default), no-stream, stream-exists, or a version number
              --id UUID                event id (a retry with the same id is applied once)
              --stop-on-error          stop at the first refused or bad line (default: go on)
              --socket PATH            daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

            exit codes: 0 all appended, 6 cannot connect, 7 not found, 8 wrong expected version,
            9 bad input, 10 access denied, 11 refused otherwise (storage full, overloaded...);
            with several lines, the code of the first failure
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        try {
            a = Args.parse(args, Set.of("--socket", "--data-base64", "--data-file", "--metadata", "--expected", "--id",
                    "--stream", "--type", "--data"), Set.of("--stop-on-error"), 3);
        } catch (Args.UsageException e) {
            console.err().println("append: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        List<String> pos = a.positional();
        String stream = a.get("--stream", pos.size() > 0 ? pos.get(0) : null);
        if (stream == null) {
            return fromStdin(a, console);
        }
        JsonLines.Append append;
        try {
            append = fromArgs(a, stream, console);
        } catch (JsonLines.BadLineException | RingStoreException | IOException e) {
            console.err().println("append: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
        RingStoreClient client = DaemonCommand.connect("append", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        try (client) {
            String line;
            int code;
            try {
                line = JsonLines.ackLine(client.append(append.stream(), append.expected(), List.of(append.event())).join());
                code = ExitCodes.OK;
            } catch (RuntimeException e) {
                line = refusedLine(append.stream(), e, null);
                code = DaemonCommand.exitCode(e);
            }
            console.out().println(line);
            console.out().flush();
            return code;
        }
    }

    private static JsonLines.Append fromArgs(Args a, String stream, Console console)
            throws JsonLines.BadLineException, IOException {
        List<String> pos = a.positional();
        String type = a.get("--type", pos.size() > 1 ? pos.get(1) : null);
        if (type == null) {
            throw new JsonLines.BadLineException("an event type is needed: append STREAM TYPE [DATA]");
        }
        String dataJson = a.get("--data", pos.size() > 2 ? pos.get(2) : null);
        byte[] data;
        if (a.has("--data-base64")) {
            try {
                data = Base64.getDecoder().decode(a.get("--data-base64", ""));
            } catch (IllegalArgumentException e) {
                throw new JsonLines.BadLineException("--data-base64 is not base64: " + e.getMessage());
            }
        } else if (a.has("--data-file")) {
            data = Files.readAllBytes(Path.of(a.get("--data-file", "")));
        } else if (dataJson != null) {
            data = compactJson(dataJson, "DATA");
        } else {
            data = new byte[0];
        }
        byte[] metadata = a.has("--metadata") ? compactJson(a.get("--metadata", ""), "--metadata") : new byte[0];
        byte[] id = a.has("--id") ? JsonLines.eventId(a.get("--id", "")) : null;
        return new JsonLines.Append(stream, JsonLines.expected(a.get("--expected", "any")),
                new EventData(id, type, data, metadata));
    }

    private static byte[] compactJson(String text, String what) throws JsonLines.BadLineException {
        try {
            return Json.write(Json.parse(text)).getBytes(StandardCharsets.UTF_8);
        } catch (Json.ParseException e) {
            throw new JsonLines.BadLineException(what + " must be a JSON value (quote strings: '\"text\"'): "
                    + e.getMessage());
        }
    }

    private static String refusedLine(String stream, Throwable e, Integer line) {
        Throwable t = DaemonCommand.unwrap(e);
        Long current = t instanceof WrongExpectedVersionException w ? w.currentVersion() : null;
        return JsonLines.errorLine(stream, DaemonCommand.errorName(t), DaemonCommand.message(t), current, line);
    }

    /** One line's outcome, printed in input order. */
    private record Pending(int line, String stream, CompletableFuture<String> ack, int[] code) {}

    private static int fromStdin(Args a, Console console) {
        boolean stopOnError = a.has("--stop-on-error");
        RingStoreClient client = DaemonCommand.connect("append", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        int window = stopOnError ? 1 : WINDOW;
        ArrayDeque<Pending> inFlight = new ArrayDeque<>();
        int firstFailure = ExitCodes.OK;
        try (client; BufferedReader in = new BufferedReader(new InputStreamReader(console.in(), StandardCharsets.UTF_8))) {
            String text;
            int lineNo = 0;
            boolean stop = false;
            while (!stop && (text = in.readLine()) != null) {
                lineNo++;
                if (text.isBlank()) {
                    continue;
                }
                int[] code = {ExitCodes.OK};
                int n = lineNo;
                CompletableFuture<String> ack;
                String stream = null;
                try {
                    JsonLines.Append ap = JsonLines.parseAppend(text);
                    stream = ap.stream();
                    String s = stream;
                    ack = client.append(ap.stream(), ap.expected(), List.of(ap.event()))
                            .thenApply(JsonLines::ackLine)
                            .exceptionally(e -> {
                                code[0] = DaemonCommand.exitCode(e);
                                return refusedLine(s, e, n);
                            });
                } catch (JsonLines.BadLineException | RingStoreException e) {
                    code[0] = ExitCodes.BAD_INPUT;
                    ack = CompletableFuture.completedFuture(JsonLines.errorLine(stream, "BAD_INPUT",
                            "line " + n + ": " + e.getMessage(), null, n));
                }
                inFlight.addLast(new Pending(n, stream, ack, code));
                while (inFlight.size() >= window || (!inFlight.isEmpty() && inFlight.peekFirst().ack().isDone())) {
                    int c = print(inFlight.removeFirst(), console);
                    if (c != ExitCodes.OK) {
                        firstFailure = firstFailure == ExitCodes.OK ? c : firstFailure;
                        if (stopOnError) {
                            stop = true;
                            break;
                        }
                    }
                }
                if (!stop) {
                    console.out().flush();
                }
            }
            while (!inFlight.isEmpty()) {
                int c = print(inFlight.removeFirst(), console);
                if (c != ExitCodes.OK && firstFailure == ExitCodes.OK) {
                    firstFailure = c;
                }
            }
            console.out().flush();
            return firstFailure;
        } catch (IOException e) {
            console.err().println("append: reading standard input failed: " + e);
            return ExitCodes.BAD_INPUT;
        }
    }

    private static int print(Pending p, Console console) {
        console.out().println(p.ack().join());
        return p.code()[0];
    }
}
