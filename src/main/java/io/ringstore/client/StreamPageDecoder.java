package io.ringstore.client;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Response;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Decodes a {@code ReadStreamResponse} straight from an answer's bytes into
 * {@link RecordedEvent}s, without the intermediate protobuf messages (an {@code Event} and three
 * {@code ByteString}s per event, each copied again into the record): on a whole-stream read that
 * was most of the client's time (issue 19). It reads the page's end first ({@link #header}), so
 * that the next page can be asked for before this one's events are decoded.
 *
 * <p>Not thread-safe: one per answer, used on the client's reading thread. The stream name and
 * type of consecutive events are usually the same: their strings are made once and reused.
 */
final class StreamPageDecoder {
    private static final byte[] EMPTY = new byte[0];

    private final byte[] frame;
    private final int offset;
    private final int length;
    private long lastVersion;
    private long nextVersion;
    private boolean endOfStream;
    private int events;
    private byte[] streamBytes = EMPTY;
    private String streamName = "";
    private byte[] typeBytes = EMPTY;
    private String typeName = "";
    /** Where the event being decoded starts in {@code frame}. */
    private int eventStart;

    private StreamPageDecoder(byte[] frame, int offset, int length) {
        this.frame = frame;
        this.offset = offset;
        this.length = length;
    }

    /**
     * Where the read_stream result of the Response in {@code frame} is, as {offset, length}, with
     * its id in {@code idOut[0]}; null when the answer is something else (an error, another result).
     */
    static int[] findReadStream(byte[] frame, long[] idOut) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(frame);
        int[] found = null;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return found;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == Response.ID_FIELD_NUMBER && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                idOut[0] = in.readUInt64();
            } else if (field == Response.READ_STREAM_FIELD_NUMBER
                    && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int n = in.readRawVarint32();
                found = new int[] {in.getTotalBytesRead(), n};
                in.skipRawBytes(n);
            } else {
                // Another result (an error): the general decoder takes the answer.
                return null;
            }
        }
    }

    /** Reads the page's fields other than its events (see {@link #lastVersion()} and the others). */
    static StreamPageDecoder header(byte[] frame, int offset, int length) throws IOException {
        StreamPageDecoder d = new StreamPageDecoder(frame, offset, length);
        CodedInputStream in = CodedInputStream.newInstance(frame, offset, length);
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return d;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case ReadStreamResponse.EVENTS_FIELD_NUMBER -> {
                    d.events++;
                    in.skipField(tag);
                }
                case ReadStreamResponse.LAST_VERSION_FIELD_NUMBER -> d.lastVersion = in.readUInt64();
                case ReadStreamResponse.NEXT_VERSION_FIELD_NUMBER -> d.nextVersion = in.readSInt64();
                case ReadStreamResponse.END_OF_STREAM_FIELD_NUMBER -> d.endOfStream = in.readBool();
                default -> in.skipField(tag);
            }
        }
    }

    long lastVersion() {
        return lastVersion;
    }

    long nextVersion() {
        return nextVersion;
    }

    boolean endOfStream() {
        return endOfStream;
    }

    int events() {
        return events;
    }

    /** Hands each event to {@code consumer}, in the page's order. */
    void forEach(Consumer<RecordedEvent> consumer) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(frame, offset, length);
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return;
            }
            if (WireFormat.getTagFieldNumber(tag) != ReadStreamResponse.EVENTS_FIELD_NUMBER) {
                in.skipField(tag);
                continue;
            }
            int n = in.readRawVarint32();
            int start = offset + in.getTotalBytesRead();
            consumer.accept(event(start, n));
            in.skipRawBytes(n);
        }
    }

    /** The page as a {@link StreamPage}. */
    StreamPage page() throws IOException {
        java.util.ArrayList<RecordedEvent> list = new java.util.ArrayList<>(events);
        forEach(list::add);
        return new StreamPage(list, lastVersion, nextVersion, endOfStream);
    }

    private RecordedEvent event(int start, int n) throws IOException {
        eventStart = start;
        CodedInputStream in = CodedInputStream.newInstance(frame, start, n);
        String stream = "";
        long version = 0;
        long position = 0;
        byte[] eventId = EMPTY;
        String type = "";
        byte[] data = EMPTY;
        byte[] metadata = EMPTY;
        long timestamp = 0;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return new RecordedEvent(stream, version, position, eventId, type, data, metadata, timestamp);
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case Event.STREAM_FIELD_NUMBER -> stream = stream(in);
                case Event.VERSION_FIELD_NUMBER -> version = in.readUInt64();
                case Event.POSITION_FIELD_NUMBER -> position = in.readUInt64();
                case Event.EVENT_ID_FIELD_NUMBER -> eventId = in.readByteArray();
                case Event.TYPE_FIELD_NUMBER -> type = type(in);
                case Event.DATA_FIELD_NUMBER -> data = in.readByteArray();
                case Event.METADATA_FIELD_NUMBER -> metadata = in.readByteArray();
                case Event.TIMESTAMP_MICROS_FIELD_NUMBER -> timestamp = in.readInt64();
                default -> in.skipField(tag);
            }
        }
    }

    private String stream(CodedInputStream in) throws IOException {
        int n = in.readRawVarint32();
        int at = in.getTotalBytesRead();
        if (!sameBytes(at, n, streamBytes)) {
            streamBytes = in.readRawBytes(n);
            streamName = utf8(streamBytes);
            return streamName;
        }
        in.skipRawBytes(n);
        return streamName;
    }

    private String type(CodedInputStream in) throws IOException {
        int n = in.readRawVarint32();
        int at = in.getTotalBytesRead();
        if (!sameBytes(at, n, typeBytes)) {
            typeBytes = in.readRawBytes(n);
            typeName = utf8(typeBytes);
            return typeName;
        }
        in.skipRawBytes(n);
        return typeName;
    }

    /**
     * Whether the {@code n} bytes at {@code relative} (counted from the event's start, as the
     * event decoder's getTotalBytesRead gives it) equal {@code known}.
     */
    private boolean sameBytes(int relative, int n, byte[] known) {
        int at = eventStart + relative;
        return n == known.length && at + n <= frame.length && Arrays.equals(frame, at, at + n, known, 0, n);
    }

    private static String utf8(byte[] b) throws IOException {
        // As protobuf does for string fields: invalid UTF-8 is refused.
        if (!com.google.protobuf.Internal.isValidUtf8(b)) {
            throw new com.google.protobuf.InvalidProtocolBufferException("string field with invalid UTF-8");
        }
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
