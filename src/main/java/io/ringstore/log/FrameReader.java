package io.ringstore.log;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.log.proto.LogRecord;
import java.lang.foreign.MemorySegment;

/** Decodes the frame at one offset of a segment into one of the states a slot can be in. */
public final class FrameReader {

    public enum Kind { RECORD, EMPTY, SEAL, BAD }

    /** What is at an offset. For {@link Kind#RECORD}, {@code next} is where the next frame starts. */
    public record Frame(Kind kind, LogRecord record, long next, String problem) {
        static final Frame EMPTY = new Frame(Kind.EMPTY, null, -1, null);
        static final Frame SEAL = new Frame(Kind.SEAL, null, -1, null);

        static Frame bad(String problem) {
            return new Frame(Kind.BAD, null, -1, problem);
        }
    }

    private FrameReader() {}

    /** Reads the frame at {@code offset} of a segment whose first byte is at {@code base}. Never throws for bad bytes. */
    public static Frame read(MemorySegment segment, long base, long offset) {
        long size = segment.byteSize();
        if (offset < SegmentHeader.LENGTH || offset + RecordFrame.HEADER_LENGTH > size || offset % RecordFrame.ALIGNMENT != 0) {
            return Frame.bad("offset outside the frame area: offset=" + offset);
        }
        int length = RecordFrame.lengthAt(segment, offset);
        if (length == 0) {
            return Frame.EMPTY;
        }
        if (length == RecordFrame.SEAL) {
            return Frame.SEAL;
        }
        if (length < 0 || offset + RecordFrame.HEADER_LENGTH + (long) length > size - RecordFrame.SEAL_LENGTH) {
            return Frame.bad("length out of range: length=" + length);
        }
        MemorySegment body = segment.asSlice(offset + RecordFrame.BODY_OFFSET, length);
        int stored = RecordFrame.crcAt(segment, offset);
        if (RecordFrame.crc(body) != stored) {
            return Frame.bad("checksum mismatch: length=" + length);
        }
        LogRecord record;
        try {
            record = LogRecord.parseFrom(body.asByteBuffer());
        } catch (InvalidProtocolBufferException e) {
            return Frame.bad("body does not parse: " + e.getMessage());
        }
        if (record.getPosition() != base + offset) {
            return Frame.bad("position mismatch: recorded=" + record.getPosition() + " actual=" + (base + offset));
        }
        return new Frame(Kind.RECORD, record, offset + RecordFrame.frameLength(length), null);
    }

    /**
     * Looks for a valid frame after a damaged or empty slot whose batch was already durable when
     * it was written ({@code durable_before > after}): proof that the damaged bytes were part of
     * acknowledged history, not a torn tail. Returns its position, or -1.
     */
    public static long findDurableFrameAfter(MemorySegment segment, long base, long fromOffset, long afterPosition) {
        long limit = segment.byteSize() - RecordFrame.SEAL_LENGTH - RecordFrame.HEADER_LENGTH;
        for (long off = RecordFrame.align(Math.max(fromOffset, SegmentHeader.LENGTH)); off <= limit; off += RecordFrame.ALIGNMENT) {
            if (!startsFrameOf(segment, base, off)) {
                continue;
            }
            Frame f = read(segment, base, off);
            if (f.kind() == Kind.RECORD && f.record().getDurableBefore() > afterPosition) {
                return base + off;
            }
        }
        return -1;
    }

    /**
     * Where zeroing from {@code from} (a cut, torn or repaired) must reach so that nothing past
     * it can surface later as this segment's frame: a new segment's last non-zero word (torn
     * frames included, as always), a recycled one's last frame of its own (see
     * {@link SegmentHeader}: past it lie the earlier life's bytes, which never pass as this
     * segment's, and zeroing them would write the whole file).
     */
    public static long endOfCut(MemorySegment segment, long base, long from) {
        return SegmentHeader.recycled(segment) ? endOfFramesOf(segment, base, from) : endOfNonZero(segment, from);
    }

    /**
     * Offset one past the last valid frame of this segment (of {@code base}) that starts at or
     * after {@code from}, or {@code from} when there is none. What recovery and a standby's cut
     * must zero so that no frame beyond the end can surface later: bytes of a recycled segment's
     * earlier life (frames of another base) and torn frames never become valid, so they may stay.
     */
    public static long endOfFramesOf(MemorySegment segment, long base, long from) {
        long limit = segment.byteSize() - RecordFrame.SEAL_LENGTH - RecordFrame.HEADER_LENGTH;
        long end = from;
        for (long off = RecordFrame.align(Math.max(from, SegmentHeader.LENGTH)); off <= limit; off += RecordFrame.ALIGNMENT) {
            if (!startsFrameOf(segment, base, off)) {
                continue;
            }
            Frame f = read(segment, base, off);
            if (f.kind() == Kind.RECORD) {
                end = f.next();
            }
        }
        return end;
    }

    /**
     * A cheap test, before a checksum over up to a segment of bytes, that a frame of this segment
     * may start at {@code offset}: its length fits and its body begins with field 1, the record's
     * position, equal to {@code base + offset}. The writer encodes the position first in every
     * record ({@code Writer.encodeHead}; a standby's frames are the primary's bytes), so a frame
     * that fails this is not one; a recycled segment's old frames (another base) and payload bytes
     * fail it, which keeps scans past the end of a recycled segment linear.
     */
    static boolean startsFrameOf(MemorySegment segment, long base, long offset) {
        int length = RecordFrame.lengthAt(segment, offset);
        if (length < 2 || offset + RecordFrame.HEADER_LENGTH + (long) length > segment.byteSize() - RecordFrame.SEAL_LENGTH) {
            return false;
        }
        long at = offset + RecordFrame.BODY_OFFSET;
        long bodyEnd = at + length;
        if (segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at++) != 0x08) {
            return false; // field 1, varint
        }
        long value = 0;
        for (int shift = 0; shift < 64 && at < bodyEnd; shift += 7) {
            byte b = segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at++);
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return value == base + offset;
            }
        }
        return false;
    }

    /** Offset one past the last non-zero 8-byte word at or after {@code from}, or {@code from} if all zero. */
    public static long endOfNonZero(MemorySegment segment, long from) {
        long end = segment.byteSize() & -8L;
        for (long off = end - 8; off >= from; off -= 8) {
            if (segment.get(SegmentHeader.LONG, off) != 0) {
                return off + 8;
            }
        }
        return from;
    }
}
