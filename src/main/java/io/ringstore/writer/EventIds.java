package io.ringstore.writer;

import java.util.concurrent.ThreadLocalRandom;

/** Generated event ids: 16 random bytes shaped as a version 4 UUID. */
public final class EventIds {

    private EventIds() {}

    public static byte[] generate() {
        byte[] id = new byte[EventData.EVENT_ID_LENGTH];
        ThreadLocalRandom.current().nextBytes(id);
        id[6] = (byte) ((id[6] & 0x0f) | 0x40);
        id[8] = (byte) ((id[8] & 0x3f) | 0x80);
        return id;
    }

}
