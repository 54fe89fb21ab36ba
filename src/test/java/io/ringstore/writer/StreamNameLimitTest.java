package io.ringstore.writer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ringstore.error.RingStoreException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stream name may take up to 1,024 bytes of UTF-8, counted as the name is stored (its
 * getBytes(UTF_8) length), whatever the characters: checked at the boundary with one-, two-,
 * three- and four-byte characters and an unpaired surrogate.
 */
class StreamNameLimitTest {
    private static final List<EventData> ONE = List.of(EventData.of("t", new byte[1]));

    @Test
    void theLimitIsInUtf8BytesAtTheBoundary() {
        for (String unit : List.of("a", "é", "€", "😀", "\uD800")) {
            int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
            String fits = unit.repeat(AppendRequest.MAX_STREAM_NAME_BYTES / unitBytes)
                    + "a".repeat(AppendRequest.MAX_STREAM_NAME_BYTES % unitBytes);
            assertEquals(AppendRequest.MAX_STREAM_NAME_BYTES, fits.getBytes(StandardCharsets.UTF_8).length);
            assertEquals(AppendRequest.MAX_STREAM_NAME_BYTES, AppendRequest.utf8Length(fits), unit);
            new AppendRequest(fits, ExpectedVersion.ANY, ONE); // accepted
            String over = fits + "a";
            RingStoreException e = assertThrows(RingStoreException.class,
                    () -> new AppendRequest(over, ExpectedVersion.ANY, ONE), unit);
            assertEquals(true, e.getMessage().contains("longer than 1024 bytes"), e.getMessage());
        }
    }
}
