package io.ringstore.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ringstore.log.proto.LogRecord;
import io.ringstore.split.StreamFileFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The splitter's copy of a record: the log's frame, byte for byte what framing its body gives, checked. */
class FrameCopyTest {
    @TempDir
    Path dir;

    @Test
    void aCopiedFrameIsTheFramedBodyAndADamagedOneIsRefused() throws Exception {
        MainLog log = MainLog.open(dir, new FileStorageIo(), 256 << 10, false, 0, 0, r -> { }).log();
        try {
            Random rnd = new Random(7);
            List<Long> positions = new ArrayList<>();
            for (int v = 0; v < 40; v++) {
                byte[] head = LogRecord.newBuilder().setStream("s").setVersion(v).build().toByteArray();
                byte[] tail = LogRecord.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(
                        bytes(rnd, v % 9 + rnd.nextInt(v < 5 ? 3000 : 200)))).build().toByteArray();
                positions.add(log.append(head, head.length, tail));
            }
            log.force();
            log.commit(log.writePosition());
            for (long p : positions) {
                byte[] body = log.readBodyAt(p);
                assertEquals(body.length, log.bodyLengthAt(p));
                ByteBuffer expected = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
                StreamFileFormat.putFrame(expected, body);
                ByteBuffer out = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
                out.put(new byte[] {1, 2, 3}); // frames follow what is already in a group
                byte[] garbage = new byte[8192 - 3];
                Arrays.fill(garbage, (byte) 0x5a); // padding must come out zero, whatever was there
                out.put(garbage).position(3);
                log.copyFrameAt(p, out);
                assertEquals(3 + expected.position(), out.position(), "moved past the frame");
                assertArrayEquals(Arrays.copyOf(expected.array(), expected.position()),
                        Arrays.copyOfRange(out.array(), 3, out.position()), "the frame at " + p);
                assertArrayEquals(new byte[] {1, 2, 3}, Arrays.copyOf(out.array(), 3));
            }
            // A flipped byte in a body: the copy is refused, as the body read is.
            long victim = positions.get(10);
            Path segment;
            try (Stream<Path> s = Files.list(dir)) {
                segment = s.filter(f -> f.toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
            }
            long offset = victim - Long.parseLong(segment.getFileName().toString().substring(0, 20))
                    + RecordFrame.BODY_OFFSET + 2;
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                ch.read(b, offset);
                b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
                ch.write(b, offset);
            }
            ByteBuffer out = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
            assertThrows(CorruptLogException.class, () -> log.copyFrameAt(victim, out));
            assertEquals(0, out.position(), "nothing taken from a damaged frame");
            assertThrows(CorruptLogException.class, () -> log.readBodyAt(victim));
            ByteBuffer small = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            assertThrows(IllegalArgumentException.class, () -> log.copyFrameAt(positions.get(11), small),
                    "a buffer without room for the frame");
        } finally {
            log.close();
        }
    }

    private static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }
}
