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
            int length = RecordFrame.lengthAt(segment, off);
            if (length <= 0) {
                continue;
            }
            Frame f = read(segment, base, off);
            if (f.kind() == Kind.RECORD && f.record().getDurableBefore() > afterPosition) {
                return base + off;
            }
        }
        return -1;
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
