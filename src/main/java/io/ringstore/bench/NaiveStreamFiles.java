package io.ringstore.bench;

import io.ringstore.log.RecordFrame;
import io.ringstore.split.SplitterOptions;
import io.ringstore.split.StreamFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The naive design the splitter exists to avoid: every append is written and forced straight
 * into its stream's own file (open if not open, append one frame, {@code fdatasync}, then
 * acknowledge). No log, no batching across streams.
 *
 * <p>Fair to it where that is cheap: appends run on {@code lanes} threads at once (a stream
 * always on the same lane, so its appends stay in order), so as many fdatasyncs are in flight
 * as the producers allow, up to {@link #MAX_LANES}; files sit in the store's own folder layout
 * ({@link StreamFiles#pathFor}: 256 sub-folders); open handles are bounded by an LRU per lane,
 * {@link #MAX_OPEN_FILES} in all, the splitter's own default bound. Frames are the baseline's
 * ({@link PlainFileLog#frame}, as long as a store record). It does not force the folder after
 * creating a file, which a crash-safe version would have to do - so it is, if anything, flattered.
 */
final class NaiveStreamFiles implements AppendTarget {
    static final int MAX_LANES = 64;
    static final int MAX_OPEN_FILES = SplitterOptions.defaults().maxOpenFiles();

    private final StreamFiles layout;
    private final int bodyLength;
    private final Lane[] lanes;
    private final Set<Path> folders = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    private record Request(String stream, byte[] payload, CompletableFuture<Void> done) {}

    private NaiveStreamFiles(Path dir, int lanes, int bodyLength) {
        this.layout = new StreamFiles(dir, 1, 1);
        this.bodyLength = bodyLength;
        this.lanes = new Lane[lanes];
        int perLane = Math.max(1, MAX_OPEN_FILES / lanes);
        for (int i = 0; i < lanes; i++) {
            this.lanes[i] = new Lane(i, perLane);
        }
    }

    /** Lanes: one per append that can be in flight ({@code producers x inFlight}), at most {@link #MAX_LANES}. */
    static NaiveStreamFiles open(Path dir, int producers, int inFlight, int bodyLength) throws IOException {
        Files.createDirectories(dir);
        NaiveStreamFiles n = new NaiveStreamFiles(dir, Math.min(MAX_LANES, producers * inFlight), bodyLength);
        for (Lane l : n.lanes) {
            l.thread.start();
        }
        return n;
    }

    int lanes() {
        return lanes.length;
    }

    @Override
    public String label() {
        return "naive";
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        Request r = new Request(stream, payload, new CompletableFuture<>());
        if (stopping) {
            r.done.completeExceptionally(new IllegalStateException("naive target stopped"));
            return r.done;
        }
        lanes[Math.floorMod(stream.hashCode(), lanes.length)].queue.add(r);
        return r.done;
    }

    /** Call after {@link #close()} for exact force percentiles. */
    @Override
    public BatchStats stats() {
        long events = 0;
        long forces = 0;
        List<long[]> parts = new ArrayList<>();
        for (Lane l : lanes) {
            events += l.events;
            forces += l.forces;
            parts.add(l.thread.isAlive() ? new long[0] : Arrays.copyOf(l.forceMicros, l.forces));
        }
        long[] all = parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new BatchStats(events, events, forces, events * RecordFrame.frameLength(bodyLength),
                Percentiles.of(all, 0.50), Percentiles.of(all, 0.99), "all forces");
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        IOException failure = null;
        for (Lane l : lanes) {
            try {
                l.thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (failure == null) {
                failure = l.failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** One thread appending, forcing and acknowledging its streams' appends one at a time. */
    private final class Lane implements Runnable {
        private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
        private final LinkedHashMap<String, FileChannel> open;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect((int) RecordFrame.frameLength(bodyLength))
                .order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();
        private final Thread thread;
        private long sequence;
        private long[] forceMicros = new long[1024];
        private volatile int forces;
        private volatile long events;
        private volatile IOException failure;

        Lane(int index, int maxOpen) {
            this.open = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, FileChannel> eldest) {
                    if (size() > maxOpen) {
                        closeQuietly(eldest.getValue());
                        return true;
                    }
                    return false;
                }
            };
            this.thread = Thread.ofPlatform().name("bench-naive-" + index).unstarted(this);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    Request r = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (r == null) {
                        if (stopping) {
                            return;
                        }
                        continue;
                    }
                    append(r);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                open.values().forEach(NaiveStreamFiles::closeQuietly);
                open.clear();
                Request r;
                while ((r = queue.poll()) != null) {
                    r.done.completeExceptionally(new IllegalStateException("naive target stopped"));
                }
            }
        }

        private void append(Request r) {
            try {
                FileChannel ch = channel(r.stream);
                buffer.clear();
                PlainFileLog.frame(buffer, crc, sequence++, r.stream, r.payload, bodyLength);
                buffer.flip();
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                long start = System.nanoTime();
                ch.force(false); // fdatasync
                recordForce((System.nanoTime() - start) / 1_000);
            } catch (IOException e) {
                failure = e;
                r.done.completeExceptionally(e);
                return;
            }
            events++;
            r.done.complete(null);
        }

        private FileChannel channel(String stream) throws IOException {
            FileChannel ch = open.get(stream);
            if (ch == null) {
                Path file = layout.pathFor(stream);
                if (!folders.contains(file.getParent())) {
                    Files.createDirectories(file.getParent());
                    folders.add(file.getParent());
                }
                ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
                open.put(stream, ch);
            }
            return ch;
        }

        private void recordForce(long micros) {
            int n = forces;
            if (n == forceMicros.length) {
                forceMicros = Arrays.copyOf(forceMicros, n * 2);
            }
            forceMicros[n] = micros;
            forces = n + 1;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Closing after a forced write: nothing is lost; the count of open handles still drops.
        }
    }
}
