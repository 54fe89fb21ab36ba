package io.ringstore.bench;

/**
 * Device writes over one measured window.
 *
 * @param sectors                    sectors written to the device in the window, -1 when no counter
 * @param seconds                    length of the window
 * @param backgroundSectorsPerSecond write rate of the device while this benchmark was idle just
 *                                   before the window (others using the same device), -1 when not sampled
 * @param payloadBytes               event payload bytes acknowledged in the window
 */
record DeviceWrites(long sectors, double seconds, double backgroundSectorsPerSecond, long payloadBytes) {

    static DeviceWrites unavailable(long payloadBytes) {
        return new DeviceWrites(-1, 0, -1, payloadBytes);
    }

    boolean available() {
        return sectors >= 0;
    }

    long bytes() {
        return sectors * DeviceWriteCounter.SECTOR_BYTES;
    }

    /** Device bytes written per byte of payload; NaN when unknown. */
    double bytesPerPayloadByte() {
        return available() && payloadBytes > 0 ? (double) bytes() / payloadBytes : Double.NaN;
    }

    /** The same ratio for the idle rate over a window this long: how much of the above may be others' writes. */
    double backgroundPerPayloadByte() {
        return available() && backgroundSectorsPerSecond >= 0 && payloadBytes > 0
                ? backgroundSectorsPerSecond * seconds * DeviceWriteCounter.SECTOR_BYTES / payloadBytes
                : Double.NaN;
    }
}
