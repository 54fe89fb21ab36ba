package io.ringstore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Sectors written to the block device under a folder, from the device's own counter
 * ({@code /sys/dev/block/MAJ:MIN/stat}, field 7, 512-byte sectors) - what the flash actually
 * sees, unlike {@code /proc/self/io}, which over-counts here (DESIGN.md, "Flash wear").
 *
 * <p>The folder's {@code st_dev} names a partition or a whole disk; both have a {@code stat}
 * file. A folder on tmpfs, overlay or another filesystem without a block device of its own has
 * an anonymous device (major 0) with no counter: then {@link #available()} is false and
 * {@link #reason()} says why. The counter is device-wide: anything else writing to the same
 * device in the same window is counted too.
 */
final class DeviceWriteCounter {
    static final int SECTOR_BYTES = 512;
    private static final int SECTORS_WRITTEN_FIELD = 6; // 0-based index of field 7

    private final Path statFile;
    private final String name;
    private final String reason;

    private DeviceWriteCounter(Path statFile, String name, String reason) {
        this.statFile = statFile;
        this.name = name;
        this.reason = reason;
    }

    /** Finds the counter of the device holding {@code folder}, or an unavailable one that says why. */
    static DeviceWriteCounter forFolder(Path folder) {
        long dev;
        try {
            dev = ((Number) Files.getAttribute(folder, "unix:dev")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return unavailable("cannot stat the folder's device: folder=" + folder + " error=" + e);
        }
        int major = major(dev);
        int minor = minor(dev);
        String id = major + ":" + minor;
        Path sysDir = Path.of("/sys/dev/block", id);
        Path stat = sysDir.resolve("stat");
        if (!Files.isReadable(stat)) {
            return unavailable("no block device behind folder=" + folder + " dev=" + id + " fstype="
                    + fsType(id) + " (tmpfs/overlay/anonymous device: no sector counter to read)");
        }
        String name;
        try {
            name = sysDir.toRealPath().getFileName().toString();
        } catch (IOException e) {
            name = id;
        }
        DeviceWriteCounter counter = new DeviceWriteCounter(stat, name + " (" + id + "), "
                + fileSystem(fsType(id), name, Path.of("/proc/fs/jbd2")), null);
        try {
            counter.sectorsWritten();
        } catch (IOException | RuntimeException e) {
            return unavailable("unreadable counter: file=" + stat + " error=" + e);
        }
        return counter;
    }

    private static DeviceWriteCounter unavailable(String reason) {
        return new DeviceWriteCounter(null, "n/a", reason);
    }

    boolean available() {
        return statFile != null;
    }

    /** Device name and MAJ:MIN, or "n/a". */
    String name() {
        return name;
    }

    /** Why there is no counter; null when there is one. */
    String reason() {
        return reason;
    }

    /** Sectors written since boot. */
    long sectorsWritten() throws IOException {
        if (statFile == null) {
            throw new IllegalStateException("no device counter: " + reason);
        }
        String[] fields = Files.readString(statFile).trim().split("\\s+");
        return Long.parseLong(fields[SECTORS_WRITTEN_FIELD]);
    }

    // glibc gnu_dev_major / gnu_dev_minor: the Linux encoding of dev_t.
    static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }

    /**
     * The file system on device {@code deviceName}, and for ext4 whether it keeps a journal (its
     * jbd2 journal shows as {@code <jbd2Dir>/<device>-<inode>}). Printed with the device because
     * it changes what a force costs: without a journal, {@code fdatasync} also writes the inode
     * whenever its mtime moved (about one force in five in the socket 8x32 row here); a Pi's
     * ext4 keeps a journal, where a timestamp alone holds up no {@code fdatasync}.
     */
    static String fileSystem(String fsType, String deviceName, Path jbd2Dir) {
        if (!fsType.equals("ext4")) {
            return fsType;
        }
        try (var entries = Files.list(jbd2Dir)) {
            return entries.anyMatch(e -> e.getFileName().toString().startsWith(deviceName + "-"))
                    ? "ext4 with a journal" : "ext4 without a journal";
        } catch (IOException | RuntimeException e) {
            return "ext4 without a journal"; // no jbd2 folder: no journal is running
        }
    }

    /** The filesystem type mounted from {@code majMin}, from /proc/self/mountinfo. */
    private static String fsType(String majMin) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            for (String line : lines) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals(majMin)) {
                    int dash = line.indexOf(" - ");
                    if (dash >= 0) {
                        return line.substring(dash + 3).split(" ")[0];
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // Only decorates the message.
        }
        return "unknown";
    }
}
