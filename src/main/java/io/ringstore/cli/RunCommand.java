package io.ringstore.cli;

import io.ringstore.log.CorruptLogException;
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

/** {@code ringstore run}: opens the store and keeps it open until SIGTERM/SIGINT. */
final class RunCommand {
    private RunCommand() {}

    static StoreConfig parse(String[] args) throws Args.UsageException {
        Args a = Args.parse(args, Set.of("--data", "--segment-size", "--durability", "--force-interval-ms"),
                Set.of("--repair"));
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

    static int run(String[] args) {
        StoreConfig config;
        try {
            config = parse(args);
        } catch (Args.UsageException e) {
            Logger.error("bad configuration: {}", e.getMessage());
            return ExitCodes.USAGE;
        }
        RingStore store;
        try {
            Logger.info("starting: data={} segmentSize={} durability={}", config.dataDir(), config.segmentSize(),
                    config.writer().durability().name().toLowerCase(Locale.ROOT));
            store = RingStore.open(config);
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                store.close();
            } catch (IOException e) {
                Logger.error("clean stop failed: {}", e.toString());
            } finally {
                stopped.countDown();
            }
        }, "ringstore-shutdown"));
        Logger.info("ready: position={}", store.committedPosition());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ExitCodes.OK;
    }
}
