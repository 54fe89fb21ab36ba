package io.ringstore.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.fault.FaultInjectingIo.Failure;
import io.ringstore.fault.FaultInjectingIo.Mode;
import io.ringstore.fault.FaultInjectingIo.Op;
import io.ringstore.log.FileStorageIo;
import io.ringstore.nativeio.NoSpaceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fault layer itself: which call fails, how often, and that a failed call changes nothing. */
class FaultInjectingIoTest {
    @TempDir
    Path dir;

    @Test
    void onceFailsExactlyTheNthCallCountedFromArming() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        Path file = dir.resolve("f");
        io.writeFile(file, new byte[] {0});
        io.failOnce(Op.WRITE_FILE, 3);
        io.writeFile(file, new byte[] {1});
        io.writeFile(file, new byte[] {2});
        IOException e = assertThrows(IOException.class, () -> io.writeFile(file, new byte[] {3}));
        assertTrue(e.getMessage().contains("op=WRITE_FILE call=4"), e.getMessage());
        assertArrayEquals(new byte[] {2}, Files.readAllBytes(file), "a failed call must not reach the file");
        io.writeFile(file, new byte[] {4});
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(file));
        assertEquals(5, io.calls(Op.WRITE_FILE));
        assertEquals(1, io.injected(Op.WRITE_FILE));
        assertEquals(0, io.injected(Op.RENAME));
    }

    @Test
    void persistentFailsFromTheNthCallUntilClearedAndCanBeRearmed() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        io.failFrom(Op.RENAME, 2);
        assertFalse(io.awaitInjection(0, TimeUnit.MILLISECONDS));
        Files.write(a, new byte[] {1});
        io.rename(a, b);
        Files.write(a, new byte[] {2});
        for (int i = 0; i < 3; i++) {
            assertThrows(IOException.class, () -> io.rename(a, b));
        }
        assertTrue(io.awaitInjection(0, TimeUnit.MILLISECONDS));
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(b));
        io.clear(Op.RENAME);
        io.rename(a, b);
        assertArrayEquals(new byte[] {2}, Files.readAllBytes(b));

        io.arm(Op.RENAME, Mode.ONCE, 1, Failure.IO_ERROR);
        assertFalse(io.awaitInjection(0, TimeUnit.MILLISECONDS), "re-arming waits for a new injection");
        Files.write(a, new byte[] {3});
        assertThrows(IOException.class, () -> io.rename(a, b));
        io.rename(a, b);
        assertEquals(4, io.injected(Op.RENAME));
    }

    @Test
    void allocateCanReportNoSpace() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        io.arm(Op.ALLOCATE, Mode.ONCE, 1, Failure.NO_SPACE);
        IOException e = assertThrows(IOException.class, () -> io.allocate(dir.resolve("s"), 4096));
        assertInstanceOf(NoSpaceException.class, e);
        assertFalse(Files.exists(dir.resolve("s")));
        io.allocate(dir.resolve("s"), 4096);
        assertEquals(4096, Files.size(dir.resolve("s")));
        assertThrows(IllegalArgumentException.class, () -> io.arm(Op.FORCE, Mode.ONCE, 1, Failure.NO_SPACE));
        assertThrows(IllegalArgumentException.class, () -> io.failOnce(Op.FORCE, 0));
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    private static void write(java.nio.channels.FileChannel ch, byte[] bytes, long at) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }

    /**
     * Linux's failed sync: the pages written since the last good sync are lost but still shown
     * until evicted; the error is reported once and the next sync succeeds without them; a page
     * written again after the loss reaches the disk with the next good sync.
     */
    @Test
    void aFailedSyncLosesItsPagesReportsOnceAndOnlyRewrittenPagesHeal() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        Path file = dir.resolve("s");
        try (var ch = io.open(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            write(ch, filled(4096, 1), 0);
            io.syncfs(dir);                                // page 0 durable with 1s
            write(ch, filled(3 * 4096, 2), 0);             // pages 0-2 dirty with 2s
            io.failOnce(Op.SYNCFS, 1);
            assertThrows(IOException.class, () -> io.syncfs(dir));
            io.syncfs(dir);                                // reported once: this one succeeds
            assertEquals(3, io.lostPages());
            write(ch, filled(4096, 3), 4096);              // page 1 written again after the loss
            io.syncfs(dir);
        }
        byte[] shown = Files.readAllBytes(file);
        assertEquals(2, shown[0], "the page cache still shows the lost page");
        assertEquals(2, io.evictLostPages(), "pages 0 and 2 put back as the disk holds them; page 1 healed by its rewrite");
        byte[] onDisk = Files.readAllBytes(file);
        assertEquals(3 * 4096, onDisk.length);
        assertEquals(1, onDisk[0], "page 0: the disk still holds what the last good sync wrote");
        assertEquals(3, onDisk[4096], "page 1: written again after the loss, so the next good sync wrote it");
        assertEquals(0, onDisk[2 * 4096], "page 2: past what the disk held, it reads as zeros");
    }

    @Test
    void aFailedSyncThatReachedTheDiskLosesNothing() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo()).failedSyncsReachDisk(true);
        Path file = dir.resolve("s");
        try (var ch = io.open(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            write(ch, filled(4096, 2), 0);
            io.failOnce(Op.FILE_FORCE, 1);
            assertThrows(IOException.class, () -> ch.force(false));
        }
        assertEquals(0, io.lostPages());
        assertEquals(0, io.evictLostPages());
        assertEquals(2, Files.readAllBytes(file)[0]);
    }

    @Test
    void aFailedFileWriteLeavesHalfOfItsBytes() throws Exception {
        FaultInjectingIo io = new FaultInjectingIo(new FileStorageIo());
        Path file = dir.resolve("s");
        try (var ch = io.open(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            io.arm(Op.FILE_WRITE, Mode.ONCE, 1, Failure.NO_SPACE);
            IOException e = assertThrows(IOException.class, () -> ch.write(java.nio.ByteBuffer.wrap(filled(1000, 7)), 0));
            assertInstanceOf(NoSpaceException.class, e);
        }
        assertEquals(500, Files.size(file), "a short write, then the error: the written half stays");
    }
}
