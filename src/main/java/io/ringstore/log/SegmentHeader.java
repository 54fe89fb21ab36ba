package io.ringstore.log;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The header at byte 0 of every main-log segment file.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                       magic "RSLG"                            |  0
 * +---------------------------------------------------------------+
 * |                       format version                          |  4
 * +---------------------------------------------------------------+
 * |                  base position (int64)                        |  8
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                  file size in bytes (int64)                   | 16
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                  created, epoch millis (int64)                | 24
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                  CRC32C of bytes 0..31                        | 32
 * +---------------------------------------------------------------+
 * |                  recycled (int32): 1 when the file held an    | 36
 * |                  earlier segment, 0 when it was new           |
 * +---------------------------------------------------------------+
 * |                  reserved, zero, up to byte 63                | 40
 * +---------------------------------------------------------------+
 * </pre>
 *
 * A new segment is preallocated, so past its last frame it reads zeros. A recycled one (a
 * reclaimed segment renamed and given a new header instead of a new file, see
 * {@code MainLog.roll}) still holds its earlier life's frames there: they carry the earlier base
 * in their positions, so no check takes them for this segment's, but "zero everything non-zero
 * after the end" would zero the whole file; recovery and a standby's cut zero only this
 * segment's own frames past the end then ({@link FrameReader#endOfFramesOf}). The flag sits
 * outside the checksum: read wrong, recovery only picks the slower rule (zero to the last non-zero
 * word) or leaves a torn frame that can never turn valid in place.
 *
 * All integers little-endian (native on x86_64 and arm64). The base position is the global log
 * position of byte 0 of the file, so a record's position is {@code base + offset in file}, and
 * the file is named by it. The first frame starts at {@link #LENGTH}.
 */
public final class SegmentHeader {
    public static final int MAGIC = 0x474C5352; // "RSLG" read as little-endian bytes
    public static final int FORMAT_VERSION = 1;

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    public static final int BASE_OFFSET = VERSION_OFFSET + Integer.BYTES;
    public static final int SIZE_OFFSET = BASE_OFFSET + Long.BYTES;
    public static final int CREATED_OFFSET = SIZE_OFFSET + Long.BYTES;
    public static final int CRC_OFFSET = CREATED_OFFSET + Long.BYTES;
    public static final int RECYCLED_OFFSET = CRC_OFFSET + Integer.BYTES;
    public static final int LENGTH = 64;

    private SegmentHeader() {}

    /** Encodes a new segment's header into a fresh 64-byte array. */
    public static byte[] encode(long base, long size, long createdMillis) {
        return encode(base, size, createdMillis, false);
    }

    /** Encodes a header into a fresh 64-byte array; {@code recycled}: the file held an earlier segment. */
    public static byte[] encode(long base, long size, long createdMillis, boolean recycled) {
        MemorySegment h = MemorySegment.ofArray(new byte[LENGTH]);
        h.set(INT, MAGIC_OFFSET, MAGIC);
        h.set(INT, VERSION_OFFSET, FORMAT_VERSION);
        h.set(LONG, BASE_OFFSET, base);
        h.set(LONG, SIZE_OFFSET, size);
        h.set(LONG, CREATED_OFFSET, createdMillis);
        h.set(INT, CRC_OFFSET, crc(h));
        h.set(INT, RECYCLED_OFFSET, recycled ? 1 : 0);
        return h.toArray(ValueLayout.JAVA_BYTE);
    }

    private static int crc(MemorySegment header) {
        CRC32C crc = new CRC32C();
        crc.update(header.asSlice(0, CRC_OFFSET).asByteBuffer());
        return (int) crc.getValue();
    }

    /** A checked header, or a description of what is wrong with it. */
    public record Checked(long base, long size, long createdMillis, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    /** Whether the header says its file held an earlier segment (any value but 0 counts). */
    public static boolean recycled(MemorySegment file) {
        return file.byteSize() >= LENGTH && file.get(INT, RECYCLED_OFFSET) != 0;
    }

    /** Reads and checks a header; never throws for bad content. */
    public static Checked check(MemorySegment file) {
        if (file.byteSize() < LENGTH) {
            return new Checked(-1, -1, -1, "file shorter than header: bytes=" + file.byteSize());
        }
        int magic = file.get(INT, MAGIC_OFFSET);
        if (magic != MAGIC) {
            return new Checked(-1, -1, -1, "bad magic: 0x" + Integer.toHexString(magic));
        }
        int version = file.get(INT, VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            return new Checked(-1, -1, -1, "unsupported format version: " + version);
        }
        if (file.get(INT, CRC_OFFSET) != crc(file)) {
            return new Checked(-1, -1, -1, "header checksum mismatch");
        }
        return new Checked(file.get(LONG, BASE_OFFSET), file.get(LONG, SIZE_OFFSET),
                file.get(LONG, CREATED_OFFSET), null);
    }
}
