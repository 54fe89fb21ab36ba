package io.ringstore.crash;

import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.zip.CRC32C;

/**
 * The process {@link CrashRecoveryTest} kills: opens a store and lets several producer threads
 * append to many streams until the process is killed. It prints one line per acknowledged append,
 * only after the append's future completed, as a single {@code write} to standard output (a pipe:
 * a write this short is atomic, so the parent never sees half a line from a killed child):
 *
 * <pre>
 * READY recovery=&lt;report summary&gt; .
 * ACK &lt;stream&gt; &lt;firstVersion&gt; &lt;lastVersion&gt; &lt;firstPosition&gt; &lt;lastPosition&gt; &lt;eventIdsHex&gt; &lt;crc32c&gt; .
 * ERR &lt;stream&gt; &lt;error&gt; .
 * </pre>
 *
 * Each event's payload is derived from its (random, seeded) event id by {@link #payload}, so the
 * parent can check every record it reads back, acknowledged or not. The store's own log lines go
 * to the same standard output with their {@code <N>} priority prefix.
 *
 * <p>Arguments: data folder, seed, round, producer threads, streams.
 */
public final class CrashChild {
    static final long SEGMENT_SIZE = 64 << 10;
    static final int MAX_PAYLOAD = 1500;
    static final String END = " .";

    private static final FileOutputStream STDOUT = new FileOutputStream(FileDescriptor.out);

    private CrashChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int round = Integer.parseInt(args[2]);
        int producers = Integer.parseInt(args[3]);
        int streams = Integer.parseInt(args[4]);
        RingStore store = RingStore.open(config(dir));
        emit("READY recovery=" + store.recovery().summary().replace(' ', '_') + END);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + round * 1_009L + p);
            threads.add(Thread.ofPlatform().name("producer-" + p).start(() -> produce(store, random, streams)));
        }
        for (Thread t : threads) {
            t.join(); // never returns normally: the parent kills this process
        }
    }

    static StoreConfig config(Path dir) {
        return StoreConfig.defaults(dir).withSegmentSize(SEGMENT_SIZE);
    }

    private static void produce(RingStore store, SplittableRandom random, int streams) {
        while (true) {
            String stream = "stream-" + random.nextInt(streams);
            int count = random.nextInt(10) < 7 ? 1 : 1 + random.nextInt(3);
            List<EventData> events = new ArrayList<>(count);
            byte[] ids = new byte[count * EventData.EVENT_ID_LENGTH];
            for (int i = 0; i < count; i++) {
                byte[] id = new byte[EventData.EVENT_ID_LENGTH];
                random.nextBytes(id);
                System.arraycopy(id, 0, ids, i * id.length, id.length);
                events.add(new EventData(id, "crash-test", payload(id), null));
            }
            AppendResult r;
            try {
                r = store.append(stream, ExpectedVersion.ANY, events).join();
            } catch (CompletionException e) {
                emit("ERR " + stream + " " + String.valueOf(e.getCause()).replace(' ', '_') + END);
                continue;
            }
            emit("ACK " + stream + " " + r.firstVersion() + " " + r.lastVersion() + " " + r.firstPosition() + " "
                    + r.lastPosition() + " " + HexFormat.of().formatHex(ids) + " " + digest(events) + END);
        }
    }

    /** The payload of the event with this id: its length and bytes follow from the id alone. */
    static byte[] payload(byte[] eventId) {
        long s = 0;
        for (byte b : eventId) {
            s = s * 31 + (b & 0xff);
        }
        SplittableRandom r = new SplittableRandom(s);
        byte[] data = new byte[r.nextInt(MAX_PAYLOAD + 1)];
        r.nextBytes(data);
        return data;
    }

    /** CRC32C over every event's id and data, in order. */
    static long digest(List<EventData> events) {
        CRC32C crc = new CRC32C();
        for (EventData e : events) {
            crc.update(e.eventId());
            crc.update(e.data());
        }
        return crc.getValue();
    }

    private static void emit(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (STDOUT) {
            try {
                STDOUT.write(bytes); // one write(2): atomic on a pipe below PIPE_BUF (4096) bytes
            } catch (IOException e) {
                Runtime.getRuntime().halt(70); // the parent is gone
            }
        }
    }
}
