package io.ringstore.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import io.ringstore.log.RecordFields;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Response;
import java.io.IOException;

/**
 * Encodes a {@code ReadStreamResponse} straight from stored record bodies: each event is the
 * body's bytes with each field's tag renumbered from LogRecord's (log_record.proto) to Event's
 * (ringstore.proto) and {@code durable_before}, which Event does not have, left out. No
 * LogRecord or Event object is built and nothing is encoded twice (issue 19). Each event carries
 * the same fields with the same value bytes an Event built from the record would; only their
 * order on the wire is LogRecord's (protobuf parsers take fields in any order).
 *
 * <pre>
 * LogRecord field:  1 position  2 version  3 durable_before  4 stream  5 event_id  6 type  7 data  8 metadata  9 timestamp_micros
 * Event field:      3           2          (left out)        1         4           5       6       7           8
 * </pre>
 *
 * Every LogRecord field number is below 16, so each tag is one byte in both messages and an
 * event is as long as the body less its durable_before field. Fields a newer LogRecord may
 * carry (numbers above 9) are left out too.
 */
public final class StreamAnswer {
    /** Event field number per LogRecord field number (0: left out). */
    private static final int[] EVENT_FIELD = {0, Event.POSITION_FIELD_NUMBER, Event.VERSION_FIELD_NUMBER, 0,
            Event.STREAM_FIELD_NUMBER, Event.EVENT_ID_FIELD_NUMBER, Event.TYPE_FIELD_NUMBER, Event.DATA_FIELD_NUMBER,
            Event.METADATA_FIELD_NUMBER, Event.TIMESTAMP_MICROS_FIELD_NUMBER};
    private static final int EVENTS_TAG = ReadStreamResponse.EVENTS_FIELD_NUMBER << 3 | 2;
    /**
     * The answer is written in chunks of this size, joined without copying at the end: a full
     * page (about a MiB) never grows by copying, and no chunk is large enough to be a
     * humongous allocation for G1 on a small heap.
     */
    static final int CHUNK_BYTES = 64 << 10;

    private final int firstChunkBytes;
    private ByteString done = ByteString.EMPTY;
    private byte[] chunk;
    private CodedOutputStream out;
    private int events;
    private long eventBytes;

    /** @param firstChunkBytes the first chunk's size (later ones take {@link #CHUNK_BYTES}): a short answer's size */
    public StreamAnswer(int firstChunkBytes) {
        this.firstChunkBytes = Math.max(256, Math.min(firstChunkBytes, CHUNK_BYTES));
        clear();
    }

    /**
     * Forgets the events added so far (a read that starts over; every read starts with one). The
     * current chunk is kept when it is large enough: nothing outside holds it before
     * {@link #response}, and a read that clears before its first event allocates nothing again.
     */
    public void clear() {
        done = ByteString.EMPTY;
        if (chunk == null || chunk.length < firstChunkBytes) {
            chunk = new byte[firstChunkBytes];
        }
        out = CodedOutputStream.newInstance(chunk);
        events = 0;
        eventBytes = 0;
    }

    /** Events added. */
    public int events() {
        return events;
    }

    /**
     * What the events added so far count against a page's byte limit: the sum of their
     * encoded sizes, as {@code Event.getSerializedSize()} would give them.
     */
    public long eventBytes() {
        return eventBytes;
    }

    /** The encoded size of the event the body {@code fields} was scanned from would become. */
    public static int eventLength(RecordFields fields) {
        int n = 0;
        for (int k = 0; k < fields.fieldCount(); k++) {
            int f = fields.fieldNumber(k);
            if (f < EVENT_FIELD.length && EVENT_FIELD[f] != 0) {
                n += fields.fieldStart(k + 1) - fields.fieldStart(k);
            }
        }
        return n;
    }

    /** Adds the event whose stored body is in {@code body}, as {@code fields} scanned it. */
    public void add(byte[] body, RecordFields fields) {
        int length = eventLength(fields);
        ensure(CodedOutputStream.computeUInt32SizeNoTag(EVENTS_TAG) + CodedOutputStream.computeUInt32SizeNoTag(length)
                + length);
        try {
            out.writeUInt32NoTag(EVENTS_TAG);
            out.writeUInt32NoTag(length);
            for (int k = 0; k < fields.fieldCount(); k++) {
                int f = fields.fieldNumber(k);
                if (f >= EVENT_FIELD.length || EVENT_FIELD[f] == 0) {
                    continue;
                }
                int start = fields.fieldStart(k);
                int wireType = body[start] & 7;
                out.writeUInt32NoTag(EVENT_FIELD[f] << 3 | wireType);
                out.writeRawBytes(body, start + 1, fields.fieldStart(k + 1) - start - 1);
            }
        } catch (IOException e) {
            throw new IllegalStateException("answer chunk sized wrongly", e);
        }
        events++;
        eventBytes += length;
    }

    /**
     * The response: the events added, then the page's other fields as {@code ReadStreamResponse}
     * defines them.
     *
     * @param standbyBehindBytes -1 when absent (not a standby)
     */
    public Response response(long id, long lastVersion, long nextVersion, boolean endOfStream, long standbyBehindBytes) {
        ensure(64);
        try {
            if (lastVersion != 0) {
                out.writeUInt64(ReadStreamResponse.LAST_VERSION_FIELD_NUMBER, lastVersion);
            }
            if (nextVersion != 0) {
                out.writeSInt64(ReadStreamResponse.NEXT_VERSION_FIELD_NUMBER, nextVersion);
            }
            if (endOfStream) {
                out.writeBool(ReadStreamResponse.END_OF_STREAM_FIELD_NUMBER, true);
            }
            if (standbyBehindBytes >= 0) {
                out.writeUInt64(ReadStreamResponse.STANDBY_BEHIND_BYTES_FIELD_NUMBER, standbyBehindBytes);
            }
        } catch (IOException e) {
            throw new IllegalStateException("answer chunk sized wrongly", e);
        }
        seal();
        // The encoded ReadStreamResponse goes in as the bytes of Response's read_stream field:
        // on the wire exactly what setReadStream would give, without parsing it back. The
        // Response object itself does not see it as read_stream (only the bytes matter here).
        return Response.newBuilder().setId(id).setUnknownFields(UnknownFieldSet.newBuilder()
                .addField(Response.READ_STREAM_FIELD_NUMBER, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(done).build())
                .build()).build();
    }

    /**
     * Makes room for {@code more} bytes: a new chunk when the current one has less, as large as
     * the answer so far (at most {@link #CHUNK_BYTES}), so that a short answer takes little more
     * than its size (a 32 KiB answer took 72 KiB of chunks with a 64 KiB second chunk) and a long
     * one still grows in a few large chunks.
     */
    private void ensure(int more) {
        if (out.spaceLeft() >= more) {
            return;
        }
        seal();
        long written = done.size();
        chunk = new byte[(int) Math.max(more, Math.min(CHUNK_BYTES, Math.max(firstChunkBytes, written)))];
        out = CodedOutputStream.newInstance(chunk);
    }

    /** Joins what the current chunk holds to the answer (a rope: no copy). */
    private void seal() {
        done = done.concat(UnsafeByteOperations.unsafeWrap(chunk, 0, out.getTotalBytesWritten()));
        chunk = new byte[0];
        out = CodedOutputStream.newInstance(chunk);
    }
}
