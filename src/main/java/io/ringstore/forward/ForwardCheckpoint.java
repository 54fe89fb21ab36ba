package io.ringstore.forward;

import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The forwarder's durable progress, {@code <data>/forward.ckpt}: every {@code $all} event
 * before this log position has been acknowledged by JetStream (or was reclaimed by the disk
 * budget before it could be, which {@code skipped bytes} counts).
 *
 * <pre>
 *  0  int32  magic "RSFW"
 *  4  int32  format version (1)
 *  8  int64  position: where forwarding resumes (a record's position, or 0 for the oldest stored)
 * 16  int64  events forwarded (acknowledged by JetStream) since the file was made
 * 24  int64  log bytes skipped: reclaimed by the disk budget before they were forwarded
 * 32  int32  CRC32C of bytes 0..31
 * </pre>
 *
 * Little-endian. Written whole: temp file, force, rename over the old one, force the folder.
 * Crash windows: before the rename, the old file stands (the temp is removed at the next start);
 * after the rename and before the folder force, a power cut may bring back the old file. Either
 * way forwarding resumes at an older position and sends again events JetStream already holds:
 * their {@code Nats-Msg-Id} makes JetStream drop them (within its duplicate window). A position
 * is only ever written after JetStream acknowledged everything below it, so no crash makes
 * forwarding skip an event.
 */
public final class ForwardCheckpoint {
    public static final String FILE_NAME = "forward.ckpt";
    public static final int MAGIC = 0x57465352; // "RSFW" as little-endian bytes
    public static final int FORMAT_VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    static final int POSITION_OFFSET = VERSION_OFFSET + Integer.BYTES;
    static final int FORWARDED_OFFSET = POSITION_OFFSET + Long.BYTES;
    static final int SKIPPED_OFFSET = FORWARDED_OFFSET + Long.BYTES;
    static final int CRC_OFFSET = SKIPPED_OFFSET + Long.BYTES;
    static final int LENGTH = CRC_OFFSET + Integer.BYTES;

    /** What the file holds. */
    public record State(long position, long forwarded, long skippedBytes) {
        static final State START = new State(0, 0, 0);
    }

    private ForwardCheckpoint() {}

    public static void write(StorageIo io, Path dir, State state) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC_OFFSET, MAGIC).putInt(VERSION_OFFSET, FORMAT_VERSION).putLong(POSITION_OFFSET, state.position())
                .putLong(FORWARDED_OFFSET, state.forwarded()).putLong(SKIPPED_OFFSET, state.skippedBytes());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        Path temp = dir.resolve(FILE_NAME + ".tmp");
        io.writeFile(temp, b.array()); // forced
        io.rename(temp, dir.resolve(FILE_NAME));
        io.forceDirectory(dir);
    }

    /**
     * The state in {@code dir}, {@link State#START} when there is none (forward from the oldest
     * event stored). Removes a temp file a crash left.
     *
     * @throws IOException when the file is there but damaged: the daemon does not guess (from the
     *         start would resend everything, from the end would skip events); a person removes it
     */
    public static State read(StorageIo io, Path dir) throws IOException {
        io.deleteIfExists(dir.resolve(FILE_NAME + ".tmp"));
        byte[] content;
        try {
            content = Files.readAllBytes(dir.resolve(FILE_NAME));
        } catch (NoSuchFileException e) {
            return State.START;
        }
        ByteBuffer b = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(content, 0, Math.min(content.length, CRC_OFFSET));
        if (content.length != LENGTH || b.getInt(MAGIC_OFFSET) != MAGIC || b.getInt(VERSION_OFFSET) != FORMAT_VERSION
                || b.getInt(CRC_OFFSET) != (int) crc.getValue()) {
            throw new IOException("damaged forwarder checkpoint: file=" + dir.resolve(FILE_NAME) + " length="
                    + content.length + " (remove it to forward everything stored again; JetStream drops what it "
                    + "holds within its duplicate window)");
        }
        return new State(b.getLong(POSITION_OFFSET), b.getLong(FORWARDED_OFFSET), b.getLong(SKIPPED_OFFSET));
    }
}
