package io.ringstore.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.tinylog.Logger;

/**
 * Says at start whether the data folder's filesystem keeps the promises the store's syncs rely
 * on. The splitter makes a pass's stream files durable with one {@code syncfs} of the filesystem
 * that holds {@code streams/}; that covers the log and checkpoints too only when they are on the
 * same filesystem, and only filesystems that honour fsync and syncfs keep anything through a
 * power cut. Never refuses to start: a user may put the store on tmpfs on purpose.
 */
final class FilesystemCheck {
    /** Types whose fsync, msync and syncfs mean durable on the device. */
    private static final Set<String> DURABLE = Set.of("ext4", "ext3", "xfs", "btrfs", "f2fs", "vfat", "exfat");

    private static volatile boolean warnedVolatile;

    private FilesystemCheck() {}

    /** Logs what holds the folders (a warning where durability is not what the store assumes). */
    static void check(StoreConfig config) {
        Path log = config.logDir();
        Path streams = config.streamsDir();
        try {
            Object logDevice = Files.getAttribute(log, "unix:dev");
            Object streamsDevice = Files.getAttribute(streams, "unix:dev");
            if (!logDevice.equals(streamsDevice)) {
                Logger.warn("log and streams are on different filesystems (log={} streams={}): each is synced on its own; "
                        + "keep the data folder on one filesystem so one syncfs covers a splitter pass", log, streams);
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            Logger.info("could not tell whether log/ and streams/ share a filesystem: {}", e.toString());
        }
        String type;
        try {
            // The mount table can be unreadable (a chroot): then the type is unknown, not an error.
            type = Files.getFileStore(config.dataDir()).type();
        } catch (IOException | RuntimeException e) {
            Logger.info("filesystem type of the data folder unknown ({}); durability through a power cut assumes "
                    + "one that honours fsync, such as ext4", e.toString());
            return;
        }
        if (type.equals("tmpfs") || type.equals("ramfs")) {
            if (warnedVolatile) {
                return; // once a process: tests open many stores on tmpfs
            }
            warnedVolatile = true;
            Logger.warn("data folder is on {}: nothing survives a reboot or a power cut dir={}", type, config.dataDir());
        } else if (!DURABLE.contains(type)) {
            Logger.warn("data folder is on a {} filesystem: the store's syncs may not make data durable there "
                    + "(tested on ext4) dir={}", type, config.dataDir());
        } else {
            Logger.info("data folder filesystem type={}", type);
        }
    }
}
