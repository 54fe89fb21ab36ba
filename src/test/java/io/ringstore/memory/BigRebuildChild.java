package io.ringstore.memory;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.split.StreamFiles;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreConfig;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM with a small heap: writes one stream larger than the heap, lets the
 * splitter move it to its file, damages a page in the middle of that file and has the splitter
 * rebuild it. Prints {@code REBUILT <last version> <file bytes> ...} and exits 0 when the
 * rebuilt file reads back whole.
 */
public final class BigRebuildChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int events = Integer.parseInt(args[1]);
        int eventBytes = Integer.parseInt(args[2]);
        StoreConfig config = StoreConfig.defaults(dir).withSegmentSize(16 << 20);
        byte[] payload = new byte[eventBytes];
        try (RingStore store = RingStore.open(config)) {
            for (int i = 0; i < events; i++) {
                payload[0] = (byte) i;
                store.append("big", i == 0 ? ExpectedVersion.NO_STREAM : ExpectedVersion.exactly(i - 1),
                        List.of(new EventData(null, "chunk", payload, null))).join();
            }
            store.splitter().drain();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (store.splitterStatus().lagEvents() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("not split in time: " + store.splitterStatus());
                }
                store.awaitCommittedBeyond(Long.MAX_VALUE - 1, 50);
            }
            Path file = new StreamFiles(config.streamsDir(), 1, 1).pathFor("big");
            long size = Files.size(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(4096), size / 2 / 4096 * 4096);
            }
            long started = System.nanoTime();
            store.splitter().requestRebuild("big").get(120, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - started) / 1_000_000;
            List<LogRecord> last = store.readStream("big", -1, 2, Direction.BACKWARD).events();
            if (last.size() != 2 || last.getFirst().getVersion() != events - 1
                    || last.getFirst().getData().byteAt(0) != (byte) (events - 1)) {
                throw new AssertionError("rebuilt file reads back wrong: " + last.size() + " events");
            }
            System.out.println("REBUILT " + last.getFirst().getVersion() + " " + Files.size(file) + " bytes, "
                    + millis + " ms");
        }
    }
}
