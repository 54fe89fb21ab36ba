package io.ringstore.bench;

import java.io.IOException;

/**
 * One device-counted window, as {@link BenchRunner} measures each configuration: sync, an idle
 * sample of the device's background write rate, the counter before; at the end sync again and
 * take the delta, so the window holds every write the measured work caused (file creation,
 * journal commits, the splitter's stream files) and none of the previous window's.
 */
final class DeviceWindow {
    private final DeviceWriteCounter device;
    private final double backgroundSectorsPerSecond;
    private final long sectorsBefore;
    private final long startNanos;

    private DeviceWindow(DeviceWriteCounter device, double background, long sectorsBefore) {
        this.device = device;
        this.backgroundSectorsPerSecond = background;
        this.sectorsBefore = sectorsBefore;
        this.startNanos = System.nanoTime();
    }

    static DeviceWindow start(DeviceWriteCounter device, long idleMillis) throws IOException, InterruptedException {
        FileSystemSync.syncAll();
        double background = -1;
        if (device.available() && idleMillis > 0) {
            long before = device.sectorsWritten();
            long start = System.nanoTime();
            Thread.sleep(idleMillis);
            background = (device.sectorsWritten() - before) / ((System.nanoTime() - start) / 1e9);
        }
        return new DeviceWindow(device, background, device.available() ? device.sectorsWritten() : -1);
    }

    /** Syncs and returns the window's writes, counted against {@code payloadBytes} of events. */
    DeviceWrites end(long payloadBytes) throws IOException {
        FileSystemSync.syncAll();
        if (!device.available()) {
            return DeviceWrites.unavailable(payloadBytes);
        }
        return new DeviceWrites(device.sectorsWritten() - sectorsBefore, (System.nanoTime() - startNanos) / 1e9,
                backgroundSectorsPerSecond, payloadBytes);
    }
}
