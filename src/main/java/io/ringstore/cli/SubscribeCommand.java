package io.ringstore.cli;

import io.ringstore.jsonlines.Json;
import io.ringstore.jsonlines.JsonLines;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.client.SubscribeFrom;
import io.ringstore.client.Subscription;
import io.ringstore.client.SubscriptionListener;
import io.ringstore.error.RingStoreException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** {@code ringstore subscribe}: prints events as they are appended, after catching up. */
final class SubscribeCommand {
    private SubscribeCommand() {}

    static final String HELP = """
            usage: ringstore subscribe [--socket PATH] [FROM] [--count N] [--base64] [STREAM]
              Prints the events of STREAM (default $all: every stream), one JSON line each as for
              `read`: first those stored, then live ones as they are appended, until Ctrl-C, --count,
              or the daemon ends the subscription. Every event exactly once, in log order.

              FROM is one of:
              --from-start             everything stored (default)
              --from-end               only events appended from now on
              --after-position P       events after position P (resume: the last "position" printed)
              --from-version V         stream subscriptions: from version V
              --count N                exit after N events
              --base64                 always print data and metadata as base64 (exact bytes)
              --socket PATH            daemon socket (default $RINGSTORE_SOCKET, else /run/ringstore/ringstore.sock)

              When the daemon drops the subscription (SUBSCRIBER_TOO_SLOW: output not read for too
              long) it prints {"error":..,"resume_after_position":P} on standard error.

            exit codes: 0 done, 6 cannot connect or connection lost, 9 bad input, 10 access denied,
            11 dropped by the daemon (too slow, shutting down)
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Args a;
        SubscribeFrom from;
        long count;
        String stream;
        try {
            a = Args.parse(args, Set.of("--socket", "--after-position", "--from-version", "--count"),
                    Set.of("--from-start", "--from-end", "--base64"), 1);
            int choices = (a.has("--from-start") ? 1 : 0) + (a.has("--from-end") ? 1 : 0)
                    + (a.has("--after-position") ? 1 : 0) + (a.has("--from-version") ? 1 : 0);
            if (choices > 1) {
                throw new Args.UsageException("give one of --from-start, --from-end, --after-position, --from-version");
            }
            if (a.has("--from-end")) {
                from = SubscribeFrom.END;
            } else if (a.has("--after-position")) {
                from = SubscribeFrom.afterPosition(a.getLong("--after-position", 0));
            } else if (a.has("--from-version")) {
                from = SubscribeFrom.fromVersion(a.getLong("--from-version", 0));
            } else {
                from = SubscribeFrom.START;
            }
            count = a.getLong("--count", Long.MAX_VALUE);
            stream = a.positional().isEmpty() ? "$all" : a.positional().getFirst();
        } catch (Args.UsageException e) {
            console.err().println("subscribe: " + e.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        }
        boolean base64 = a.has("--base64");
        RingStoreClient client = DaemonCommand.connect("subscribe", DaemonCommand.socket(a, console), console);
        if (client == null) {
            return ExitCodes.CANNOT_CONNECT;
        }
        CompletableFuture<Integer> done = new CompletableFuture<>();
        AtomicLong printed = new AtomicLong();
        AtomicReference<Map<String, Object>> endLine = new AtomicReference<>();
        try (client) {
            Subscription sub = client.subscribe(stream, from, new SubscriptionListener() {
                @Override
                public void onEvent(RecordedEvent e) {
                    if (printed.get() >= count) {
                        return;
                    }
                    console.out().println(JsonLines.eventLine(e.toEvent(), base64));
                    console.out().flush();
                    if (printed.incrementAndGet() >= count) {
                        done.complete(ExitCodes.OK);
                    }
                }

                @Override
                public void onEnd(RuntimeException error) {
                    if (error == null) {
                        done.complete(ExitCodes.OK);
                        return;
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("error", DaemonCommand.errorName(error));
                    m.put("message", DaemonCommand.message(error));
                    if (error instanceof RingStoreException) {
                        m.put("resume_after_position", null);
                    }
                    endLine.set(m);
                    done.complete(DaemonCommand.exitCode(error));
                }
            });
            int code = done.join();
            Map<String, Object> end = endLine.get();
            if (end != null) {
                if (end.containsKey("resume_after_position")) {
                    long last = sub.lastPosition();
                    end.put("resume_after_position", last >= 0 ? last : null);
                }
                console.err().println(Json.write(end));
            }
            return code;
        }
    }
}
