package io.ringstore.cli;

import io.ringstore.config.Settings;
import io.ringstore.daemon.Daemon;
import io.ringstore.daemon.DaemonSettings;
import org.tinylog.Logger;


/**
 * {@code ringstore serve} (alias {@code run}): opens the store, serves it on the Unix socket and
 * keeps both open until SIGTERM/SIGINT; then stops accepting, answers what is in flight, and
 * closes the store cleanly.
 */
final class ServeCommand {
    private ServeCommand() {}

    static final String HELP = """
            usage: ringstore serve [options]      (alias: run)
              Runs the store and serves it on a Unix socket until SIGTERM/SIGINT.

              --data DIR                 data folder (default /var/lib/ringstore)
              --socket PATH              socket file (default /run/ringstore/ringstore.sock); created
                                         with mode 0660; a stale one is replaced, a live one refused
              --json-socket PATH|off     the JSON-lines socket (default json.sock beside --socket): the
                                         same operations, one JSON line per request and answer
              --socket-group GROUP       group of the socket file (default: the daemon's group)
              --read-write-users LIST    comma-separated user names or uids that may append and read
              --read-write-groups LIST   groups whose members may append and read
              --read-only-users LIST     users that may read, subscribe and ask status, not append
              --read-only-groups LIST    groups likewise
                                         (none of the four: whoever can open the socket may do all;
                                          any of them: only those listed, root and the daemon's user)
              --max-connections N        connections at once (default 256)
              --max-in-flight N          requests per connection read before answers are written (default 64)
              --max-frame-bytes BYTES    largest request frame (default 8m)
              --subscriber-buffer-bytes BYTES  events queued per subscriber (default 1m)
              --slow-subscriber-ms N     drop a subscriber whose buffer stays full this long (default 30000)
              --segment-size BYTES       main-log segment size (default 64m)
              --durability sync|periodic|none   when appends are acknowledged (default sync)
              --force-interval-ms N      periodic mode: force interval (default 100)
              --repair                   cut the log at damage instead of refusing to start
              --config FILE              settings file (default /etc/ringstore/ringstore.conf when it
                                         exists); every setting there has a flag of the same name:
                                         --splitter on|off, --splitter-window-bytes, --splitter-window-ms,
                                         --splitter-max-lag-bytes, --splitter-max-lag-seconds,
                                         --retain-log-minutes, --retain-log-bytes, --queue-capacity,
                                         --leds on|off, --led-write/--led-lag/--led-fault N[:low]|off,
                                         --status-interval-seconds N, the replication keys, and the
                                         voter group: --group-voters, --group-listen, --failover-after-ms ...
              --role witness             hold no events, only vote in the group (group_voters, group_listen
                                         and the replication key store and peer certificates needed)

            exit codes: 0 clean stop, 2 bad configuration, 3 data folder or socket in use by
            another process, 4 log damaged (needs --repair), 5 I/O error at start-up
            """;

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        DaemonSettings settings;
        try {
            settings = DaemonSettings.parse(args);
        } catch (Settings.BadSetting e) {
            Logger.error("bad configuration: {}", e.getMessage());
            return ExitCodes.USAGE;
        }
        return new Daemon(settings).run();
    }
}
