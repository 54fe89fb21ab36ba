package io.ringstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DeviceWriteCounterTest {

    @Test
    void decodesLinuxDeviceNumbers() {
        assertEquals(254, DeviceWriteCounter.major(0xfe00L));
        assertEquals(0, DeviceWriteCounter.minor(0xfe00L));
        assertEquals(179, DeviceWriteCounter.major(0xb302L)); // mmcblk0p2 on a Pi
        assertEquals(2, DeviceWriteCounter.minor(0xb302L));
        long big = makedev(0x1234, 0x56789); // major above 12 bits, minor above 8 bits
        assertEquals(0x1234, DeviceWriteCounter.major(big));
        assertEquals(0x56789, DeviceWriteCounter.minor(big));
    }

    /** glibc gnu_dev_makedev. */
    private static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    @Test
    void namesTheFileSystemAndWhetherExt4KeepsAJournal(@org.junit.jupiter.api.io.TempDir Path jbd2) throws Exception {
        assertEquals("ext4 without a journal", DeviceWriteCounter.fileSystem("ext4", "vda", jbd2));
        Files.createDirectory(jbd2.resolve("loop0-8"));
        assertEquals("ext4 without a journal", DeviceWriteCounter.fileSystem("ext4", "vda", jbd2));
        assertEquals("ext4 with a journal", DeviceWriteCounter.fileSystem("ext4", "loop0", jbd2));
        Files.createDirectory(jbd2.resolve("mmcblk0p2-8"));
        assertEquals("ext4 with a journal", DeviceWriteCounter.fileSystem("ext4", "mmcblk0p2", jbd2));
        assertEquals("ext4 without a journal", DeviceWriteCounter.fileSystem("ext4", "mmcblk0", jbd2));
        assertEquals("xfs", DeviceWriteCounter.fileSystem("xfs", "loop0", jbd2));
        assertEquals("ext4 without a journal", DeviceWriteCounter.fileSystem("ext4", "vda", jbd2.resolve("absent")));
    }

    @Test
    void folderWithoutBlockDeviceSaysWhy() {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm), "no /dev/shm here");
        DeviceWriteCounter c = DeviceWriteCounter.forFolder(shm);
        assertFalse(c.available());
        assertEquals("n/a", c.name());
        assertTrue(c.reason().contains("tmpfs"), c.reason());
    }
}
