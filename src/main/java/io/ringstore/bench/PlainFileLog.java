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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The "no store" baseline: the storage limit for the same producers and batch sizes. One thread
 * drains a queue (same capacity and batch limit as the store's writer), frames each record,
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
final class PlainFileLog implements AppendTarget, Runnable {
    private static final int SEQUENCE_BYTES = Long.BYTES;

    private final FileChannel channel;
    private final int bodyLength;
    private final int frameLength;
    private final int maxBatch;
    private final ArrayBlockingQueue<Request> queue;
    private final Thread thread;
    private volatile boolean stopping;

    // Writer-thread state.
    private final List<Request> batch = new ArrayList<>();
    private final ByteBuffer buffer;
    private final CRC32C crc = new CRC32C();
    private long filePosition;
    private long sequence;
    private long[] forceMicros = new long[4096];

    // Published counters.
    private volatile long batches;
    private volatile long events;
    private volatile long forces;
    private volatile IOException failure;

    private record Request(String stream, byte[] payload, CompletableFuture<Void> done) {}

    private PlainFileLog(FileChannel channel, int bodyLength, int queueCapacity, int maxBatch) {
        this.channel = channel;
        this.bodyLength = bodyLength;
        this.frameLength = (int) RecordFrame.frameLength(bodyLength);
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.buffer = ByteBuffer.allocateDirect(frameLength * maxBatch).order(ByteOrder.LITTLE_ENDIAN);
        this.thread = Thread.ofPlatform().name("bench-baseline-writer").unstarted(this);
    }

    /**
     * Creates {@code file} with real blocks for {@code events} frames (fallocate, like a store
     * segment) and starts the writer thread.
     */
    static PlainFileLog open(Path file, long events, int bodyLength, int queueCapacity, int maxBatch)
            throws IOException {
        long size = events * RecordFrame.frameLength(bodyLength);
        if (Posix.fallocate(file, Math.max(size, 4096)) == Posix.Allocation.UNSUPPORTED) {
            System.err.println("bench: fallocate unsupported here; the baseline file grows as it is written");
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        PlainFileLog log = new PlainFileLog(channel, bodyLength, queueCapacity, maxBatch);
        log.thread.start();
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

    @Override
    public String label() {
        return "baseline";
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        Request r = new Request(stream, payload, new CompletableFuture<>());
        if (stopping) {
            r.done.completeExceptionally(new IllegalStateException("baseline stopped"));
            return r.done;
        }
        try {
            queue.put(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.done.completeExceptionally(e);
        }
        return r.done;
    }

    @Override
    public void run() {
        try {
            while (true) {
                Request first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                writeBatch();
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            List<Request> rest = new ArrayList<>();
            queue.drainTo(rest);
            rest.forEach(r -> r.done.completeExceptionally(new IllegalStateException("baseline stopped")));
        }
    }

    private void writeBatch() {
        buffer.clear();
        for (Request r : batch) {
            frame(r);
        }
        buffer.flip();
        try {
            long at = filePosition;
            while (buffer.hasRemaining()) {
                at += channel.write(buffer, at);
            }
            filePosition = at;
            long start = System.nanoTime();
            channel.force(false);
            recordForce((System.nanoTime() - start) / 1_000);
        } catch (IOException e) {
            failure = e;
            batch.forEach(r -> r.done.completeExceptionally(e));
            return;
        }
        batch.forEach(r -> r.done.complete(null));
        events += batch.size();
        batches++;
    }

    private void frame(Request r) {
        frame(buffer, crc, sequence++, r.stream, r.payload, bodyLength);
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

    private void recordForce(long micros) {
        int n = (int) forces;
        if (n == forceMicros.length) {
            forceMicros = Arrays.copyOf(forceMicros, n * 2);
        }
        forceMicros[n] = micros;
        forces = n + 1;
    }

    /** Call after {@link #close()} for exact force percentiles (the array is writer-thread state). */
    @Override
    public BatchStats stats() {
        long n = forces;
        long[] sorted = thread.isAlive() ? new long[0] : Arrays.copyOf(forceMicros, (int) n);
        Arrays.sort(sorted);
        return new BatchStats(batches, events, n, events * frameLength, Percentiles.of(sorted, 0.50),
                Percentiles.of(sorted, 0.99), thread.isAlive() ? "n/a while running" : "all forces");
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.close();
        if (failure != null) {
            throw failure;
        }
    }
}
