package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.log.FileStorageIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EpochHistoryTest {
    @TempDir
    Path dir;

    @Test
    void endOfAnEpochIsTheStartOfTheNextOrTheLogEnd() {
        EpochHistory h = EpochHistory.initial().with(1, 1000).with(3, 5000);
        assertEquals(1000, h.endOf(0, 9000));
        assertEquals(5000, h.endOf(1, 9000));
        assertEquals(5000, h.endOf(2, 9000), "an epoch this board skipped ends where the next it had begins");
        assertEquals(9000, h.endOf(3, 9000));
        assertEquals(-1, h.endOf(4, 9000), "a newer epoch than ours is unknown here");
        assertEquals("0@0,1@1000", h.upTo(4999).toString());
        assertEquals("0@0,1@1000,3@5000", h.upTo(5000).toString());
        assertEquals("0@0,1@1000", h.cutAt(5000).toString(), "an epoch starting at the cut has nothing left");
        assertEquals("0@0", h.cutAt(1000).toString());
    }

    @Test
    void epochsMustIncreaseAndNotStartEarlier() {
        assertThrows(IllegalArgumentException.class, () -> EpochHistory.initial().with(0, 10));
        assertThrows(IllegalArgumentException.class, () -> EpochHistory.initial().with(2, 100).with(3, 50));
    }

    @Test
    void writtenWholeAndReadBackAndDamageIsNamed() throws IOException {
        assertEquals("0@0", EpochHistory.load(dir).toString(), "no file: never promoted");
        EpochHistory h = EpochHistory.initial().with(1, 4096);
        h.write(new FileStorageIo(), dir);
        assertEquals(h.entries(), EpochHistory.load(dir).entries());
        assertTrue(Files.notExists(dir.resolve(EpochHistory.FILE_NAME + ".tmp")));

        byte[] bytes = Files.readAllBytes(dir.resolve(EpochHistory.FILE_NAME));
        assertEquals(12 + 2 * 16 + 4, bytes.length);
        for (int i : List.of(0, 5, 9, 20, bytes.length - 1)) {
            byte[] bad = bytes.clone();
            bad[i] ^= 0x10;
            Files.write(dir.resolve(EpochHistory.FILE_NAME), bad);
            IOException e = assertThrows(IOException.class, () -> EpochHistory.load(dir), "flip at " + i);
            assertTrue(e.getMessage().contains(EpochHistory.FILE_NAME), e.getMessage());
        }
    }
}
