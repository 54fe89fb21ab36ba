package io.ringstore.cli;

import io.ringstore.log.CorruptLogException;
import io.ringstore.server.AccessPolicy;
import io.ringstore.server.ServerConfig;
import io.ringstore.server.SocketFile;
import io.ringstore.server.SocketServer;
import io.ringstore.store.DataDirLock;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.Durability;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
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

            exit codes: 0 clean stop, 2 bad configuration, 3 data folder or socket in use by
            another process, 4 log damaged (needs --repair), 5 I/O error at start-up
            """;

    record Config(StoreConfig store, ServerConfig server) {}

    static StoreConfig parseStore(Args a) throws Args.UsageException {
        try {
            StoreConfig c = StoreConfig.defaults(Path.of(a.get("--data", "/var/lib/ringstore")))
                    .withSegmentSize(a.getLong("--segment-size", StoreConfig.DEFAULT_SEGMENT_SIZE))
                    .withRepair(a.has("--repair"));
            String d = a.get("--durability", "sync").toUpperCase(Locale.ROOT);
            Durability durability;
            try {
                durability = Durability.valueOf(d);
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("--durability must be sync, periodic or none: " + d.toLowerCase(Locale.ROOT));
            }
            c = c.withDurability(durability);
            if (a.has("--force-interval-ms")) {
                c = c.withWriter(c.writer().withForceIntervalMillis(a.getLong("--force-interval-ms", 100)));
            }
            return c;
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    static Config parse(String[] args) throws Args.UsageException {
        Args a = Args.parse(args, Set.of("--data", "--segment-size", "--durability", "--force-interval-ms", "--socket",
                        "--socket-group", "--read-write-users", "--read-write-groups", "--read-only-users",
                        "--read-only-groups", "--max-connections", "--max-in-flight", "--max-frame-bytes",
                        "--subscriber-buffer-bytes", "--slow-subscriber-ms"),
                Set.of("--repair"));
        StoreConfig store = parseStore(a);
        try {
            ServerConfig s = ServerConfig.defaults(Path.of(a.get("--socket", ServerConfig.DEFAULT_SOCKET.toString())));
            s = s.withSocketGroup(a.get("--socket-group", null))
                    .withAccess(AccessPolicy.of(a.get("--read-write-users", null), a.get("--read-write-groups", null),
                            a.get("--read-only-users", null), a.get("--read-only-groups", null)))
                    .withMaxConnections(a.getInt("--max-connections", s.maxConnections()))
                    .withMaxInFlight(a.getInt("--max-in-flight", s.maxInFlight()))
                    .withMaxFrameBytes(a.getInt("--max-frame-bytes", s.maxFrameBytes()))
                    .withSubscriberBuffer(a.getInt("--subscriber-buffer-bytes", s.subscriberBufferBytes()),
                            a.getLong("--slow-subscriber-ms", s.slowSubscriberMillis()));
            return new Config(store, s);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    static int run(String[] args, Console console) {
        if (Args.wantsHelp(args)) {
            console.out().print(HELP);
            console.out().flush();
            return ExitCodes.OK;
        }
        Config config;
        try {
            config = parse(args);
        } catch (Args.UsageException e) {
            Logger.error("bad configuration: {}", e.getMessage());
            return ExitCodes.USAGE;
        }
        StoreConfig sc = config.store();
        RingStore store;
        try {
            Logger.info("starting: data={} socket={} segmentSize={} durability={}", sc.dataDir(), config.server().socket(),
                    sc.segmentSize(), sc.writer().durability().name().toLowerCase(Locale.ROOT));
            store = RingStore.open(sc);
        } catch (DataDirLock.LockedException e) {
            Logger.error(e.getMessage());
            return ExitCodes.LOCKED;
        } catch (CorruptLogException e) {
            Logger.error("{}", e.getMessage());
            return ExitCodes.CORRUPT_LOG;
        } catch (IOException e) {
            Logger.error("cannot open the store: {}", e.toString());
            return ExitCodes.IO_ERROR;
        }
        SocketServer server;
        try {
            server = SocketServer.start(store, config.server());
        } catch (SocketFile.InUseException e) {
            Logger.error("{}", e.getMessage());
            closeQuietly(store);
            return ExitCodes.LOCKED;
        } catch (IOException | RuntimeException e) {
            Logger.error("cannot serve the socket: socket={} error={}", config.server().socket(), e.toString());
            closeQuietly(store);
            return ExitCodes.IO_ERROR;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (IOException e) {
                Logger.error("closing the socket failed: {}", e.toString());
            }
            try {
                store.close();
            } catch (IOException e) {
                Logger.error("clean stop failed: {}", e.toString());
            } finally {
                stopped.countDown();
            }
        }, "ringstore-shutdown"));
        Logger.info("ready: position={} socket={}", store.committedPosition(), server.socketPath());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ExitCodes.OK;
    }

    private static void closeQuietly(RingStore store) {
        try {
            store.close();
        } catch (IOException e) {
            Logger.error("closing the store failed: {}", e.toString());
        }
    }
}
