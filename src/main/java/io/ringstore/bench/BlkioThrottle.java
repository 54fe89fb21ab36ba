package io.ringstore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The SD-card imitation: a cgroup v1 blkio group that throttles writes to the device holding a
 * folder ({@code blkio.throttle.write_iops_device} and {@code write_bps_device}), into which a
 * child process (the primary daemon) is moved through {@code cgroup.procs}. It limits the writes
 * the process itself issues: its fdatasync/msync write-back (the appends' forces), not the kernel
 * flusher's background write-back (charged to the root group under v1). Needs root and a v1 blkio
 * hierarchy at /sys/fs/cgroup/blkio; {@link #create} says clearly why not otherwise.
 */
final class BlkioThrottle implements AutoCloseable {
    private static final Path ROOT = Path.of("/sys/fs/cgroup/blkio");

    private final Path group;
    private final String device;
    private final long iops;
    private final long bytesPerSecond;

    private BlkioThrottle(Path group, String device, long iops, long bytesPerSecond) {
        this.group = group;
        this.device = device;
        this.iops = iops;
        this.bytesPerSecond = bytesPerSecond;
    }

    /** Parses "IOPS:BYTES_PER_SECOND" (e.g. "200:10485760"); "card" is 200 IOPS and 10 MB/s. */
    static long[] parse(String spec) {
        if (spec.equals("card")) {
            return new long[] {200, 10L * 1024 * 1024};
        }
        String[] parts = spec.split(":");
        if (parts.length != 2) {
            throw new IllegalArgumentException("--sd-card-profile takes card or IOPS:BYTES_PER_SECOND: " + spec);
        }
        return new long[] {Long.parseLong(parts[0].trim()), Long.parseLong(parts[1].trim())};
    }

    /** A new group limiting writes to the whole disk holding {@code folder}. */
    static BlkioThrottle create(Path folder, String name, long iops, long bytesPerSecond) throws IOException {
        if (!Files.isWritable(ROOT.resolve("cgroup.procs")) || !Files.exists(ROOT.resolve("blkio.throttle.write_iops_device"))) {
            throw new IOException("--sd-card-profile needs root and a cgroup v1 blkio hierarchy at " + ROOT
                    + " (writable cgroup.procs, blkio.throttle.*): not available here");
        }
        long dev = ((Number) Files.getAttribute(folder, "unix:dev")).longValue();
        String id = DeviceWriteCounter.major(dev) + ":" + DeviceWriteCounter.minor(dev);
        Path sys = Path.of("/sys/dev/block", id);
        if (!Files.exists(sys)) {
            throw new IOException("--sd-card-profile: the folder " + folder + " is not on a block device (dev " + id
                    + ": tmpfs or overlay); use a folder on a disk, e.g. under /var/tmp");
        }
        if (Files.exists(sys.resolve("partition"))) { // throttles apply to the whole disk
            id = Files.readString(sys.toRealPath().getParent().resolve("dev")).trim();
        }
        Path group = ROOT.resolve(name);
        Files.createDirectories(group);
        Files.writeString(group.resolve("blkio.throttle.write_iops_device"), id + " " + iops);
        Files.writeString(group.resolve("blkio.throttle.write_bps_device"), id + " " + bytesPerSecond);
        return new BlkioThrottle(group, id, iops, bytesPerSecond);
    }

    /** Moves process {@code pid} (all its threads) into the group. */
    void add(long pid) throws IOException {
        Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
    }

    String describe() {
        return String.format(Locale.ROOT, "blkio %s: writes to %s limited to %d IOPS, %.1f MB/s", group, device, iops,
                bytesPerSecond / 1e6);
    }

    /** Removes the group (its processes must have exited or be moved out first: they go back to the root). */
    @Override
    public void close() {
        try {
            if (Files.exists(group)) {
                for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
                    if (!pid.isBlank()) {
                        try {
                            Files.writeString(ROOT.resolve("cgroup.procs"), pid.trim());
                        } catch (IOException e) {
                            // the process exited meanwhile
                        }
                    }
                }
                Files.delete(group);
            }
        } catch (IOException e) {
            System.err.println("bench: could not remove " + group + ": " + e);
        }
    }
}
