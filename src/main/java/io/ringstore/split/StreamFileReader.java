package io.ringstore.split;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.log.RecordFields;
import io.ringstore.log.RecordFrame;
import io.ringstore.log.proto.LogRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Reads a stream file front to back (see {@link StreamFileFormat}), frame by frame, through a
 * small buffer: a whole-stream read is one sequential read of the file. Stops quietly at the
 * first byte that is not a sound frame or footer (a group the splitter is still writing, or a
 * torn one), and says where.
 */
public final class StreamFileReader implements AutoCloseable {
    private static final int MAX_BODY = 64 << 20;
    /** What a reader that starts past the header reads of it: the header with a name of up to 4 KiB. */
    private static final int HEADER_READ = StreamFileFormat.NAME_OFFSET + 4096;
    private static final int MIN_BUFFER = 8 << 10;
    private static final int MAX_BUFFER = 64 << 10;

    private final Path file;
    private final FileChannel channel;
    private final String stream;
    private final byte[] streamUtf8;
    private final CRC32C crc = new CRC32C();
    private int bodyOffset;
    private int bodyLength;
    private ByteBuffer buf;
    private long bufStart; // file offset of buf[0]
    private long offset;   // file offset of the next frame
    private long recordOffset = -1; // file offset of the frame of the record next() returned last
    private long firstVersion;
    private long lastVersion = -1;
    private long lastFooterEnd;
    private long lastFooterVersion = -1;
    private String stop;
    /** Bytes one refill reads at most (beyond what is asked for); the buffer's size bounds it too. */
    private int readAhead = Integer.MAX_VALUE;

    private StreamFileReader(Path file, FileChannel channel, String stream, long from) throws IOException {
        this.file = file;
        this.channel = channel;
        this.stream = stream;
        this.streamUtf8 = stream.getBytes(StandardCharsets.UTF_8);
        // As large as what is there to read from {@code from} on, within [MIN_BUFFER, MAX_BUFFER]:
        // most stream files are far smaller than the largest buffer, and a reader is opened for
        // every stream read (a 100-event stream is about 33 KB). The buffer grows for a larger
        // frame (ensure); a file that grows while it is read is read in more refills.
        long size = Math.max(0, channel.size() - from);
        buf = ByteBuffer.allocate((int) Math.min(MAX_BUFFER, Math.max(MIN_BUFFER, size)))
                .order(ByteOrder.LITTLE_ENDIAN).limit(0);
    }

    /**
     * Opens {@code file} and checks its header names {@code stream}.
     *
     * @throws StreamFileException when the header is damaged or names another stream
     */
    public static StreamFileReader open(Path file, String stream) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            StreamFileReader r = new StreamFileReader(file, ch, stream, 0);
            r.readHeader();
            return r;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Opens {@code file} positioned at {@code offset} (a frame boundary the caller knows, such as
     * a group start from a footer); the first frame there may have any version.
     */
    public static StreamFileReader openAt(Path file, String stream, long offset) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return openAt(ch, file, stream, offset);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Like {@link #openAt(Path, String, long)} on a channel already open for reading; the reader
     * takes it over (closing the reader closes it).
     */
    static StreamFileReader openAt(FileChannel ch, Path file, String stream, long offset) throws IOException {
        StreamFileReader r = new StreamFileReader(file, ch, stream, offset);
        r.readAhead = HEADER_READ;
        r.readHeader();
        r.readAhead = Integer.MAX_VALUE;
        r.offset = offset;
        r.anyNextVersion = true;
        return r;
    }

    private boolean anyNextVersion;

    /** The stream a file's header names, or null when the header is damaged. */
    public static String streamOf(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(StreamFileFormat.NAME_OFFSET + 4096).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            if (head.position() < StreamFileFormat.NAME_OFFSET || head.getInt(StreamFileFormat.MAGIC_OFFSET) != StreamFileFormat.MAGIC) {
                return null;
            }
            int length = head.getInt(StreamFileFormat.NAME_LENGTH_OFFSET);
            if (length < 0 || StreamFileFormat.NAME_OFFSET + length > head.position()) {
                return null;
            }
            return new String(head.array(), StreamFileFormat.NAME_OFFSET, length, StandardCharsets.UTF_8);
        }
    }

    private void readHeader() throws IOException {
        if (!ensure(StreamFileFormat.NAME_OFFSET)) {
            throw new StreamFileException(file, 0, "file shorter than its header");
        }
        if (buf.getInt(StreamFileFormat.MAGIC_OFFSET) != StreamFileFormat.MAGIC) {
            throw new StreamFileException(file, 0, "bad magic");
        }
        if (buf.getInt(StreamFileFormat.VERSION_OFFSET) != StreamFileFormat.FORMAT_VERSION) {
            throw new StreamFileException(file, 0, "unsupported format version " + buf.getInt(StreamFileFormat.VERSION_OFFSET));
        }
        int nameLength = buf.getInt(StreamFileFormat.NAME_LENGTH_OFFSET);
        if (nameLength < 0 || nameLength > 4096 || !ensure(StreamFileFormat.NAME_OFFSET + nameLength)) {
            throw new StreamFileException(file, 0, "bad name length " + nameLength);
        }
        byte[] name = new byte[nameLength];
        buf.get(StreamFileFormat.NAME_OFFSET, name);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, StreamFileFormat.HEADER_CRC_OFFSET);
        crc.update(name);
        if ((int) crc.getValue() != buf.getInt(StreamFileFormat.HEADER_CRC_OFFSET)) {
            throw new StreamFileException(file, 0, "header checksum mismatch");
        }
        String actual = new String(name, StandardCharsets.UTF_8);
        if (!actual.equals(stream)) {
            throw new StreamFileException(file, 0, "file belongs to stream " + actual + ", not " + stream);
        }
        firstVersion = buf.getLong(StreamFileFormat.FIRST_VERSION_OFFSET);
        if (firstVersion < 0) {
            throw new StreamFileException(file, 0, "bad first version " + firstVersion);
        }
        lastVersion = firstVersion - 1;
        lastFooterVersion = firstVersion - 1;
        offset = RecordFrame.align(StreamFileFormat.NAME_OFFSET + nameLength);
        lastFooterEnd = offset;
    }

    /** Makes the {@code n} bytes at {@link #offset} available in buf; false at end of file. */
    private boolean ensure(long n) throws IOException {
        if (offset >= bufStart && offset + n <= bufStart + buf.limit()) {
            return true;
        }
        int valid = buf.limit();
        int keepFrom = (int) Math.max(0, Math.min(valid, offset - bufStart));
        int keep = offset >= bufStart ? valid - keepFrom : 0;
        ByteBuffer target = buf;
        if (n > buf.capacity()) {
            target = ByteBuffer.allocate((int) Math.max(n, buf.capacity() * 2L)).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (keep > 0) {
            System.arraycopy(buf.array(), keepFrom, target.array(), 0, keep);
        }
        buf = target;
        bufStart = offset;
        int filled = keep;
        buf.clear();
        // Reading the header of a file that is then read from further on: just the header.
        buf.limit((int) Math.min(buf.capacity(), Math.max(n, readAhead)));
        while (filled < n) {
            buf.position(filled);
            int read = channel.read(buf, bufStart + filled);
            if (read <= 0) {
                break;
            }
            filled += read;
        }
        buf.position(0).limit(filled);
        return filled >= n;
    }

    /**
     * The next record, or null at the end of what is sound (see {@link #stopReason()}).
     * Footers are checked and skipped.
     */
    public LogRecord next() throws IOException {
        int length = nextFrame();
        if (length < 0) {
            return null;
        }
        int body = (int) (offset - bufStart) + RecordFrame.BODY_OFFSET;
        LogRecord record;
        try {
            record = LogRecord.parseFrom(ByteBuffer.wrap(buf.array(), body, length));
        } catch (InvalidProtocolBufferException e) {
            stop = "body does not parse at offset " + offset;
            return null;
        }
        return accept(record.getStream().equals(stream), record.getStream(), record.getVersion(), length)
                ? record : null;
    }

    /**
     * Like {@link #next}, without building the record: on true, {@code fields} holds the next
     * record's fields and its body is {@code bodyArray()[bodyOffset() .. + bodyLength())}, valid
     * until the next call. False at the end of what is sound (see {@link #stopReason()}).
     */
    public boolean nextBody(RecordFields fields) throws IOException {
        int length = nextFrame();
        if (length < 0) {
            return false;
        }
        int body = (int) (offset - bufStart) + RecordFrame.BODY_OFFSET;
        if (!fields.scan(buf.array(), body, length)) {
            stop = "body does not parse at offset " + offset;
            return false;
        }
        boolean ours = fields.streamIs(buf.array(), streamUtf8);
        if (!accept(ours, ours ? stream : fields.stream(buf.array()), fields.version(), length)) {
            return false;
        }
        bodyOffset = body;
        bodyLength = length;
        return true;
    }

    /** The array {@link #nextBody}'s body is in (the reader's buffer: it changes as the reader goes on). */
    public byte[] bodyArray() {
        return buf.array();
    }

    public int bodyOffset() {
        return bodyOffset;
    }

    public int bodyLength() {
        return bodyLength;
    }

    /**
     * Steps over footers (checking them) to the next sound frame at {@link #offset}; returns its
     * body length, or -1 at the end of what is sound (with {@link #stop} saying why, or null).
     */
    private int nextFrame() throws IOException {
        while (true) {
            if (!ensure(Integer.BYTES)) {
                stop = null; // clean end of file
                return -1;
            }
            int rel = (int) (offset - bufStart);
            int length = buf.getInt(rel);
            if (length == StreamFileFormat.FOOTER_MARK) {
                if (!ensure(StreamFileFormat.FOOTER_LENGTH)) {
                    stop = "torn footer at offset " + offset;
                    return -1;
                }
                rel = (int) (offset - bufStart);
                if (!StreamFileFormat.footerOk(buf, rel)
                        || buf.getLong(rel + StreamFileFormat.FOOTER_LAST_VERSION_OFFSET) != lastVersion) {
                    stop = "bad footer at offset " + offset;
                    return -1;
                }
                offset += StreamFileFormat.FOOTER_LENGTH;
                lastFooterEnd = offset;
                lastFooterVersion = lastVersion;
                continue;
            }
            if (length <= 0 || length > MAX_BODY) {
                stop = "bad frame length " + length + " at offset " + offset;
                return -1;
            }
            if (!ensure(RecordFrame.frameLength(length))) {
                stop = "torn frame at offset " + offset;
                return -1;
            }
            rel = (int) (offset - bufStart);
            crc.reset();
            crc.update(buf.array(), rel + RecordFrame.BODY_OFFSET, length);
            if ((int) crc.getValue() != buf.getInt(rel + RecordFrame.CRC_OFFSET)) {
                stop = "checksum mismatch at offset " + offset;
                return -1;
            }
            return length;
        }
    }

    /**
     * Checks that the sound frame at {@link #offset} holds the next version of this stream and
     * steps past it; false (with {@link #stop} saying why) when it does not.
     */
    private boolean accept(boolean ours, String recordStream, long version, int length) {
        if (anyNextVersion && ours) {
            lastVersion = version - 1;
            anyNextVersion = false;
        }
        if (!ours || version != lastVersion + 1) {
            stop = "unexpected record at offset " + offset + ": stream=" + recordStream
                    + " version=" + version + " after " + lastVersion;
            return false;
        }
        lastVersion = version;
        recordOffset = offset;
        offset += RecordFrame.frameLength(length);
        return true;
    }

    /** Why reading stopped, or null when it reached a clean end of file. */
    public String stopReason() {
        return stop;
    }

    /** Version of the file's first record, from its header. */
    public long firstVersion() {
        return firstVersion;
    }

    /** Version of the last record returned (firstVersion - 1 if none). */
    public long lastVersion() {
        return lastVersion;
    }

    /** End of the last complete group (what a repair truncates to) and its last version. */
    public long lastFooterEnd() {
        return lastFooterEnd;
    }

    public long lastFooterVersion() {
        return lastFooterVersion;
    }

    /**
     * File offset of the frame of the record {@link #next} returned last (-1 before the first):
     * where {@link #openAt} can resume a later read at that record.
     */
    public long recordOffset() {
        return recordOffset;
    }

    /** File offset of the next frame. */
    public long offset() {
        return offset;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
