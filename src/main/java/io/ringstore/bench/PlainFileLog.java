package io.ringstore.bench;

import com.google.protobuf.ByteString;
import io.ringstore.log.RecordFrame;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The storage limit for the same producers and batch sizes. One thread drains a queue (same
 * capacity and batch limit as the store's writer; {@link QueuedBatchTarget}), frames each record,
 * writes the batch to a preallocated plain file with one positional FileChannel write, forces
 * once ({@code fdatasync}), then acknowledges the batch. No stream table, no protobuf, no mmap.
 *
 * <p>Frames use the log's layout ({@link RecordFrame}: length, CRC32C of the body, body, zero
 * padding to 8, little-endian). The body is as long as the store's body for the same event
 * ({@link #comparableBodyLength}), so both write the same bytes per event:
 * <pre>
 * offset  size  field
 *  0       8    sequence number (u64 LE)
 *  8       S    stream name, UTF-8 (all names have the same length)
 *  8+S     P    payload
 *  8+S+P   .    zeros up to the comparable body length
 * </pre>
 */
final class PlainFileLog extends QueuedBatchTarget {
    private static final int SEQUENCE_BYTES = Long.BYTES;

    private final FileChannel channel;
    private final int bodyLength;
    private final int frameLength;

    // Writer-thread state.
    private final ByteBuffer buffer;
    private final CRC32C crc = new CRC32C();
    private long filePosition;
    private long sequence;

    private PlainFileLog(FileChannel channel, int bodyLength, int queueCapacity, int maxBatch) {
        super("limit", queueCapacity, maxBatch);
        this.channel = channel;
        this.bodyLength = bodyLength;
        this.frameLength = (int) RecordFrame.frameLength(bodyLength);
        this.buffer = ByteBuffer.allocateDirect(frameLength * maxBatch).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Creates {@code file} with real blocks for {@code events} frames (fallocate, like a store
     * segment) and starts the writer thread.
     */
    static PlainFileLog open(Path file, long events, int bodyLength, int queueCapacity, int maxBatch)
            throws IOException {
        long size = events * RecordFrame.frameLength(bodyLength);
        if (Posix.fallocate(file, Math.max(size, 4096)) == Posix.Allocation.UNSUPPORTED) {
            System.err.println("bench: fallocate unsupported here; the limit's file grows as it is written");
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        PlainFileLog log = new PlainFileLog(channel, bodyLength, queueCapacity, maxBatch);
        log.start();
        return log;
    }

    /**
     * The body length the store writes for an event of this workload: a {@code LogRecord} with
     * the stream, a 16-byte id, the type, the payload, and mid-run values for the position,
     * version, durable position and timestamp (varints, so within a byte or two of every record).
     */
    static int comparableBodyLength(Workload w) {
        long midPosition = (long) w.events() * (w.payloadBytes() + 100) / 2;
        LogRecord r = LogRecord.newBuilder()
                .setPosition(midPosition)
                .setVersion(Math.max(1, w.events() / Math.max(1, w.streamsUsed())))
                .setDurableBefore(midPosition)
                .setStream(w.streamOf(0))
                .setEventId(ByteString.copyFrom(new byte[16]))
                .setType(Workload.EVENT_TYPE)
                .setData(ByteString.copyFrom(w.payload()))
                .setTimestampMicros(System.currentTimeMillis() * 1000)
                .build();
        return Math.max(r.getSerializedSize(), SEQUENCE_BYTES + w.streamNameBytes() + w.payloadBytes());
    }

    /**
     * Puts one frame of the layout above at {@code buffer}'s position and moves past it: body
     * (sequence, stream name, payload, zeros up to {@code bodyLength}), then CRC and length.
     */
    static void frame(ByteBuffer buffer, CRC32C crc, long sequence, String stream, byte[] payload, int bodyLength) {
        int start = buffer.position();
        int bodyStart = start + RecordFrame.BODY_OFFSET;
        int end = start + (int) RecordFrame.frameLength(bodyLength);
        buffer.position(bodyStart);
        buffer.putLong(sequence);
        buffer.put(stream.getBytes(StandardCharsets.UTF_8));
        buffer.put(payload);
        while (buffer.position() < end) {
            buffer.put((byte) 0);
        }
        crc.reset();
        crc.update(buffer.slice(bodyStart, bodyLength));
        buffer.putInt(start + RecordFrame.CRC_OFFSET, (int) crc.getValue());
        buffer.putInt(start + RecordFrame.LENGTH_OFFSET, bodyLength); // commit point
        buffer.position(end);
    }

    /** One positional write of the framed batch, one fdatasync (the caller acknowledges). */
    @Override
    List<Request> writeBatch(List<Request> batch) throws IOException {
        buffer.clear();
        for (Request r : batch) {
            frame(buffer, crc, sequence++, r.stream(), r.payload(), bodyLength);
        }
        buffer.flip();
        long at = filePosition;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
        filePosition = at;
        long start = System.nanoTime();
        channel.force(false);
        recordForce((System.nanoTime() - start) / 1_000);
        return batch;
    }

    @Override
    long frameBytesPerEvent() {
        return frameLength;
    }

    @Override
    void closeResources() throws IOException {
        channel.close();
    }
}
