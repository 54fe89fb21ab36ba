package io.ringstore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bench's SD-card imitation ({@link BlkioThrottle}, package-private there) for tests in other
 * packages: a cgroup v1 blkio group throttling writes to the disk of a folder, processes moved in
 * and back out to the root group.
 */
public final class SdCardForTests implements AutoCloseable {
    private static final Path ROOT_PROCS = Path.of("/sys/fs/cgroup/blkio/cgroup.procs");
    private final BlkioThrottle throttle;

    private SdCardForTests(BlkioThrottle throttle) {
        this.throttle = throttle;
    }

    /** The bench's "card" profile (200 write IOPS, 10 MiB/s) on the disk holding {@code folder}; the reason when impossible. */
    public static SdCardForTests card(Path folder, String name) throws IOException {
        long[] card = BlkioThrottle.parse("card");
        return new SdCardForTests(BlkioThrottle.create(folder, name, card[0], card[1]));
    }

    public void add(long pid) throws IOException {
        throttle.add(pid);
    }

    /** Back to the root group (a process that exited meanwhile is ignored). */
    public void remove(long pid) {
        try {
            Files.writeString(ROOT_PROCS, Long.toString(pid));
        } catch (IOException e) {
            // exited
        }
    }

    public String describe() {
        return throttle.describe();
    }

    @Override
    public void close() {
        throttle.close();
    }
}
