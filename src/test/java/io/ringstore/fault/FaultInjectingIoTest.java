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
}
