package io.ringstore.split;

import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The splitter's durable progress: every event before this log position is durable in its
 * stream file.
 *
 * <pre>
 *  0  int32  magic "RSSC"
 *  4  int32  format version (1)
 *  8  int64  split position
 * 16  int32  CRC32C of bytes 0..15
 * </pre>
 *
 * Little-endian. Written atomically (temp, force, rename, force folder) only after the stream
 * files it covers were synced: so a crash at any point leaves either the old or the new
 * position, and the splitter re-splits from it (stream files skip versions they already hold).
 */
public final class SplitterCheckpoint {
    public static final String FILE_NAME = "splitter.ckpt";
    public static final int MAGIC = 0x43535352; // "RSSC" as little-endian bytes
    public static final int FORMAT_VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    static final int POSITION_OFFSET = VERSION_OFFSET + Integer.BYTES;
    static final int CRC_OFFSET = POSITION_OFFSET + Long.BYTES;
    static final int LENGTH = CRC_OFFSET + Integer.BYTES;

    private SplitterCheckpoint() {}

    public static void write(StorageIo io, Path dir, long position) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC_OFFSET, MAGIC).putInt(VERSION_OFFSET, FORMAT_VERSION).putLong(POSITION_OFFSET, position);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        io.createDirectories(dir);
        Path temp = dir.resolve(FILE_NAME + ".tmp");
        io.writeFile(temp, b.array());
        io.rename(temp, dir.resolve(FILE_NAME));
        io.forceDirectory(dir);
    }

    /** The split position, or 0 when the splitter has never checkpointed (split from the log start). */
    public static long read(Path dir) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(dir.resolve(FILE_NAME));
        } catch (NoSuchFileException e) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(content, 0, Math.min(content.length, CRC_OFFSET));
        if (content.length != LENGTH || b.getInt(MAGIC_OFFSET) != MAGIC || b.getInt(VERSION_OFFSET) != FORMAT_VERSION
                || b.getInt(CRC_OFFSET) != (int) crc.getValue()) {
            throw new IOException("damaged splitter checkpoint: file=" + dir.resolve(FILE_NAME));
        }
        return b.getLong(POSITION_OFFSET);
    }
}
