package io.ringstore.log;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/**
 * How one record sits in a segment file.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |  length L of the body (int32); written last: the commit point |  0
 * +---------------------------------------------------------------+
 * |  CRC32C of the L body bytes                                   |  4
 * +---------------------------------------------------------------+
 * |  body: a protobuf ringstore.log.v1.LogRecord, L bytes      ...|  8
 * +---------------------------------------------------------------+
 * |  zero padding to the next multiple of 8                       |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * Little-endian. Every frame starts at an offset that is a multiple of {@link #ALIGNMENT}.
 * The length word also marks the two non-record states of a slot:
 * <ul>
 *   <li>{@code 0}: nothing was ever committed here (a preallocated segment is all zeros);
 *   <li>{@link #SEAL} ({@code -1}): the writer rolled to the next segment; nothing follows.
 * </ul>
 * A frame is valid only if its length fits the segment, its CRC matches the body, the body
 * parses, and the body's position equals {@code segment base + offset}; the last check rejects
 * stale bytes that happen to carry a good checksum.
 */
public final class RecordFrame {
    public static final int LENGTH_OFFSET = 0;
    public static final int CRC_OFFSET = LENGTH_OFFSET + Integer.BYTES;
    public static final int BODY_OFFSET = CRC_OFFSET + Integer.BYTES;
    public static final int HEADER_LENGTH = BODY_OFFSET;
    public static final int ALIGNMENT = 8;
    public static final int SEAL = -1;
    /** Room a segment always keeps for the seal word after the last frame. */
    public static final int SEAL_LENGTH = ALIGNMENT;

    private RecordFrame() {}

    /** Bytes a frame with a body of {@code bodyLength} occupies, padding included. */
    public static long frameLength(int bodyLength) {
        return align(HEADER_LENGTH + (long) bodyLength);
    }

    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    public static int lengthAt(MemorySegment segment, long offset) {
        return segment.get(SegmentHeader.INT, offset + LENGTH_OFFSET);
    }

    public static int crcAt(MemorySegment segment, long offset) {
        return segment.get(SegmentHeader.INT, offset + CRC_OFFSET);
    }

    public static int crc(MemorySegment body) {
        CRC32C crc = new CRC32C();
        crc.update(body.asByteBuffer());
        return (int) crc.getValue();
    }

    public static int crc(byte[] body, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(body, offset, length);
        return (int) crc.getValue();
    }
}
