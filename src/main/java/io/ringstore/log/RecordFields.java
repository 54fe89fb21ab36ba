package io.ringstore.log;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the few fields a reader needs straight from a stored record body (a protobuf
 * {@code ringstore.log.v1.LogRecord}, see log_record.proto) without building the message: the
 * version, position and timestamp, and where the stream name sits. A whole-stream read decides
 * with these what to answer and then copies the body's bytes into the answer as they are
 * (issue 19: parsing every record into objects and encoding it again was most of a long read).
 *
 * <p>Reusable: {@link #scan} overwrites what the last call found. Protobuf wire format, fields
 * in any order, unknown fields skipped; absent fields are 0 (proto3 defaults).
 */
public final class RecordFields {
    /** LogRecord field numbers (log_record.proto). */
    public static final int POSITION = 1;
    public static final int VERSION = 2;
    public static final int DURABLE_BEFORE = 3;
    public static final int STREAM = 4;
    public static final int EVENT_ID = 5;
    public static final int TYPE = 6;
    public static final int DATA = 7;
    public static final int METADATA = 8;
    public static final int TIMESTAMP_MICROS = 9;

    private long position;
    private long version;
    private long timestampMicros;
    private int streamOffset;
    private int streamLength;
    /** Each field's number and where its tag starts, in body order; fieldStarts[count] is the body's end. */
    private int[] fieldNumbers = new int[12];
    private int[] fieldStarts = new int[13];
    private int count;

    /**
     * Finds the fields of the body at {@code b[offset .. offset + length)}.
     *
     * @return false when the bytes are not a well-formed message (then nothing found is valid)
     */
    public boolean scan(byte[] b, int offset, int length) {
        position = 0;
        version = 0;
        timestampMicros = 0;
        streamOffset = offset;
        streamLength = 0;
        count = 0;
        CodedInputStream in = CodedInputStream.newInstance(b, offset, length);
        try {
            while (true) {
                int fieldStart = offset + in.getTotalBytesRead();
                int tag = in.readTag();
                if (tag == 0) {
                    fieldStarts[count] = offset + length;
                    return true;
                }
                if (count + 1 == fieldNumbers.length) {
                    fieldNumbers = Arrays.copyOf(fieldNumbers, count * 2);
                    fieldStarts = Arrays.copyOf(fieldStarts, count * 2 + 1);
                }
                fieldNumbers[count] = WireFormat.getTagFieldNumber(tag);
                fieldStarts[count++] = fieldStart;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case POSITION -> position = in.readUInt64();
                    case VERSION -> version = in.readUInt64();
                    case TIMESTAMP_MICROS -> timestampMicros = in.readInt64();
                    case STREAM -> {
                        int n = in.readRawVarint32();
                        streamOffset = offset + in.getTotalBytesRead();
                        streamLength = n;
                        in.skipRawBytes(n);
                    }
                    default -> in.skipField(tag);
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    public long position() {
        return position;
    }

    public long version() {
        return version;
    }

    public long timestampMicros() {
        return timestampMicros;
    }

    /** Whether the stream name in the body scanned last is exactly {@code utf8}. */
    public boolean streamIs(byte[] b, byte[] utf8) {
        return Arrays.equals(b, streamOffset, streamOffset + streamLength, utf8, 0, utf8.length);
    }

    /** The stream name of the body scanned last (for messages; readers compare with {@link #streamIs}). */
    public String stream(byte[] b) {
        return new String(b, streamOffset, streamLength, StandardCharsets.UTF_8);
    }

    /** Fields in the body scanned last. */
    public int fieldCount() {
        return count;
    }

    /** The number of the {@code k}-th field of the body scanned last. */
    public int fieldNumber(int k) {
        return fieldNumbers[k];
    }

    /** Where the {@code k}-th field's tag starts; {@code fieldStart(fieldCount())} is the body's end. */
    public int fieldStart(int k) {
        return fieldStarts[k];
    }
}
