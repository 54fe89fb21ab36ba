package io.ringstore.split;

import io.ringstore.log.RecordFrame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The layout of one stream file: a header naming the stream, then groups of record frames,
 * each group closed by a footer. The splitter appends one group per stream per window with a
 * single write.
 *
 * <pre>
 * header (24 bytes + name, padded to 8):
 *   0  int32  magic "RSSF"
 *   4  int32  format version (1)
 *   8  int64  version of the first record the file holds: 0, or later once retention
 *             rewrote it or a rebuild found versions lost; with no records, the version the
 *             next one will have
 *  16  int32  name length N (bytes of UTF-8)
 *  20  int32  CRC32C of bytes 0..19 and the name
 *  24  N      stream name, UTF-8, zero padding to a multiple of 8
 *
 * record frame: exactly {@link RecordFrame}'s layout (length, CRC32C of body, protobuf
 *   ringstore.log.v1.LogRecord body, padding to 8); versions ascend by one.
 *
 * group footer (24 bytes), after the last frame of each group:
 *   0  int32  {@link #FOOTER_MARK} (-2) in the length slot
 *   4  int32  CRC32C of bytes 8..23
 *   8  int64  last version in the file up to here
 *  16  int64  file offset where this group's first frame starts
 * </pre>
 *
 * Little-endian, like the main log. The last footer makes the file's last version readable
 * with one small read; the group start lets the splitter check just the last group after a
 * crash (only the group written since the last sync can be torn).
 */
public final class StreamFileFormat {
    public static final int MAGIC = 0x46535352; // "RSSF" as little-endian bytes
    public static final int FORMAT_VERSION = 1;
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    public static final int FIRST_VERSION_OFFSET = VERSION_OFFSET + Integer.BYTES;
    public static final int NAME_LENGTH_OFFSET = FIRST_VERSION_OFFSET + Long.BYTES;
    public static final int HEADER_CRC_OFFSET = NAME_LENGTH_OFFSET + Integer.BYTES;
    public static final int NAME_OFFSET = HEADER_CRC_OFFSET + Integer.BYTES;

    public static final int FOOTER_MARK = -2;
    public static final int FOOTER_MARK_OFFSET = 0;
    public static final int FOOTER_CRC_OFFSET = FOOTER_MARK_OFFSET + Integer.BYTES;
    public static final int FOOTER_LAST_VERSION_OFFSET = FOOTER_CRC_OFFSET + Integer.BYTES;
    public static final int FOOTER_GROUP_START_OFFSET = FOOTER_LAST_VERSION_OFFSET + Long.BYTES;
    public static final int FOOTER_LENGTH = FOOTER_GROUP_START_OFFSET + Long.BYTES;

    private StreamFileFormat() {}

    static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The header for {@code stream}. */
    public static byte[] header(String stream, long firstVersion) {
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = le((int) RecordFrame.align(NAME_OFFSET + name.length));
        b.putInt(MAGIC_OFFSET, MAGIC);
        b.putInt(VERSION_OFFSET, FORMAT_VERSION);
        b.putLong(FIRST_VERSION_OFFSET, firstVersion);
        b.putInt(NAME_LENGTH_OFFSET, name.length);
        b.put(NAME_OFFSET, name);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, HEADER_CRC_OFFSET);
        crc.update(name);
        b.putInt(HEADER_CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    public static int headerLength(String stream) {
        return (int) RecordFrame.align(NAME_OFFSET + stream.getBytes(StandardCharsets.UTF_8).length);
    }

    /** Appends a record frame for {@code body} to {@code out}. */
    public static void putFrame(ByteBuffer out, byte[] body) {
        int start = out.position();
        CRC32C crc = new CRC32C();
        crc.update(body);
        out.putInt(start + RecordFrame.LENGTH_OFFSET, body.length);
        out.putInt(start + RecordFrame.CRC_OFFSET, (int) crc.getValue());
        out.put(start + RecordFrame.BODY_OFFSET, body);
        int end = (int) (start + RecordFrame.frameLength(body.length));
        for (int i = start + RecordFrame.BODY_OFFSET + body.length; i < end; i++) {
            out.put(i, (byte) 0);
        }
        out.position(end);
    }

    /** Appends a group footer to {@code out}. */
    public static void putFooter(ByteBuffer out, long lastVersion, long groupStart) {
        int start = out.position();
        out.putInt(start + FOOTER_MARK_OFFSET, FOOTER_MARK);
        out.putLong(start + FOOTER_LAST_VERSION_OFFSET, lastVersion);
        out.putLong(start + FOOTER_GROUP_START_OFFSET, groupStart);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), out.arrayOffset() + start + FOOTER_LAST_VERSION_OFFSET, Long.BYTES * 2);
        out.putInt(start + FOOTER_CRC_OFFSET, (int) crc.getValue());
        out.position(start + FOOTER_LENGTH);
    }

    /** Whether the 24 bytes at {@code buf[offset]} are a sound footer. */
    public static boolean footerOk(ByteBuffer buf, int offset) {
        if (buf.getInt(offset + FOOTER_MARK_OFFSET) != FOOTER_MARK) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), buf.arrayOffset() + offset + FOOTER_LAST_VERSION_OFFSET, Long.BYTES * 2);
        return buf.getInt(offset + FOOTER_CRC_OFFSET) == (int) crc.getValue();
    }
}
