package io.ringstore.powercut;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ringstore.nativeio.NoSpaceException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The card model's writes: what a full card leaves must be what a real one could. */
class ModelledChannelTest {
    @TempDir
    Path tmp;

    @Test
    void aWriteToAFullCardLeavesItsFirstPartInPlaceAndFails() throws Exception {
        PowerCutIo io = new PowerCutIo(tmp);
        Path file = tmp.resolve("f");
        byte[] before = new byte[100];
        Arrays.fill(before, (byte) 7);
        byte[] data = new byte[1000];
        new Random(1).nextBytes(data);
        try (FileChannel ch = io.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(before), 0);
            io.full(true);
            ByteBuffer src = ByteBuffer.wrap(data);
            assertThrows(NoSpaceException.class, () -> ch.write(src, 100));
            assertEquals(500, src.position(), "the part written is consumed from the buffer");
        }
        byte[] now = Files.readAllBytes(file);
        assertEquals(600, now.length);
        assertArrayEquals(before, Arrays.copyOfRange(now, 0, 100));
        assertArrayEquals(Arrays.copyOfRange(data, 0, 500), Arrays.copyOfRange(now, 100, 600),
                "the first part of the write, where it was asked to go");
    }

    @Test
    void aWriteWhileTheCardIsFreedNeverLandsElsewhere() throws Exception {
        // The workload frees the card from another thread while the store's threads write: each
        // write either fails with its first part in place, or succeeds whole; never a success
        // that left something else (the model once wrote a write's rest over its start).
        PowerCutIo io = new PowerCutIo(tmp);
        Path file = tmp.resolve("g");
        byte[] data = new byte[64 << 10];
        new Random(2).nextBytes(data);
        Thread toggler = Thread.ofPlatform().start(() -> {
            Random rnd = new Random(3);
            while (!Thread.currentThread().isInterrupted()) {
                io.full(rnd.nextBoolean());
                Thread.onSpinWait();
            }
        });
        try (FileChannel ch = io.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 2000; i++) {
                ch.truncate(0);
                ByteBuffer src = ByteBuffer.wrap(data);
                try {
                    while (src.hasRemaining()) {
                        ch.write(src, src.position());
                    }
                    byte[] now = Files.readAllBytes(file);
                    assertArrayEquals(data, now, "a write that succeeded left the file whole (round " + i + ")");
                } catch (NoSpaceException e) {
                    byte[] now = Files.readAllBytes(file);
                    assertEquals(src.position(), now.length, "round " + i);
                    assertArrayEquals(Arrays.copyOfRange(data, 0, now.length), now, "round " + i);
                }
            }
        } finally {
            toggler.interrupt();
            toggler.join();
        }
    }
}
