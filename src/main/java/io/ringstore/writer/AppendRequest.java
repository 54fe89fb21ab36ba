package io.ringstore.writer;

import com.google.protobuf.UnsafeByteOperations;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.proto.LogRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One producer's append, as queued for the writer; the future completes after the batch's force. */
public final class AppendRequest {
    public static final int MAX_STREAM_NAME_BYTES = 1024;

    final String stream;
    final ExpectedVersion expected;
    final List<EventData> events;
    final CompletableFuture<AppendResult> result = new CompletableFuture<>();
    /** Each event's id: the client's, or a generated one. */
    final byte[][] eventIds;
    /** Whether the client chose every id (only then is the append remembered for retries). */
    final boolean clientIds;
    /** Whether the client chose any id (then a reuse of one is detected). */
    final boolean anyClientIds;
    /** Each event's record fields that do not depend on where it lands, encoded off the writer thread. */
    final byte[][] encoded;
    final long encodedBytes;
    /** Set for a metadata change (retention): {@code stream} is then the target's metadata stream. */
    final MetadataChange change;
    /**
     * The appends queued with this one as one queue element ({@link Writer#submitAll}: a
     * multi-stream append), taken into the same batch right after it; null when alone.
     */
    AppendRequest[] group;

    public AppendRequest(String stream, ExpectedVersion expected, List<EventData> events) {
        this(stream, expected, events, null);
    }

    /**
     * A change of {@code change.target()}'s metadata, written as one event of type
     * {@code type} to {@code metadataStream}; its data is filled in by the writer.
     */
    public static AppendRequest metadata(String metadataStream, String type, MetadataChange change) {
        if (change == null || !metadataStream.startsWith("$")) {
            throw new IllegalArgumentException("a metadata change goes to a '$' stream: " + metadataStream);
        }
        return new AppendRequest(metadataStream, ExpectedVersion.ANY, List.of(EventData.of(type, new byte[0])), change);
    }

    private AppendRequest(String stream, ExpectedVersion expected, List<EventData> events, MetadataChange change) {
        this.change = change;
        if (stream == null || stream.isEmpty()) {
            throw RingStoreException.invalid("stream name must not be empty");
        }
        if (stream.startsWith("$") && change == null) {
            throw RingStoreException.invalid("stream names starting with '$' are reserved: stream=" + stream);
        }
        if (stream.length() > MAX_STREAM_NAME_BYTES / 3 && utf8Length(stream) > MAX_STREAM_NAME_BYTES) {
            throw RingStoreException.invalid("stream name longer than " + MAX_STREAM_NAME_BYTES + " bytes");
        }
        if (expected == null) {
            throw RingStoreException.invalid("expected version must be given");
        }
        if (events == null || events.isEmpty()) {
            throw RingStoreException.invalid("an append needs at least one event: stream=" + stream);
        }
        this.stream = stream;
        this.expected = expected;
        this.events = List.copyOf(events);
        this.eventIds = new byte[this.events.size()][];
        this.encoded = new byte[this.events.size()][];
        boolean allClient = true;
        boolean anyClient = false;
        long bytes = 0;
        for (int i = 0; i < this.events.size(); i++) {
            EventData e = this.events.get(i);
            if (e == null) {
                throw RingStoreException.invalid("event " + i + " is null");
            }
            allClient &= e.eventId() != null;
            anyClient |= e.eventId() != null;
            eventIds[i] = e.eventId() != null ? e.eventId().clone() : EventIds.generate();
            // Wrapped, not copied: the record is encoded here and now, and only its bytes are kept.
            encoded[i] = LogRecord.newBuilder()
                    .setStream(stream)
                    .setEventId(UnsafeByteOperations.unsafeWrap(eventIds[i]))
                    .setType(e.type())
                    .setData(UnsafeByteOperations.unsafeWrap(e.data()))
                    .setMetadata(UnsafeByteOperations.unsafeWrap(e.metadata()))
                    .build().toByteArray();
            bytes += encoded[i].length;
        }
        this.clientIds = allClient;
        this.anyClientIds = anyClient;
        this.encodedBytes = bytes;
    }

    /** Bytes of {@code s} in UTF-8 as {@code getBytes(UTF_8)} gives them, without the copy (an unpaired surrogate is its one-byte '?'). */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1;
            } else {
                n += 3;
            }
        }
        return n;
    }

    public CompletableFuture<AppendResult> result() {
        return result;
    }

    public String stream() {
        return stream;
    }
}
