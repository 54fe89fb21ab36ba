package io.ringstore.checkpoint;

import io.ringstore.log.StorageIo;
import io.ringstore.writer.RecentEventIds;
import io.ringstore.writer.StreamTable;
import java.util.ArrayList;
import java.util.List;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The stream table as of one log position, so start-up scans the log only from there.
 *
 * <pre>
 * offset  size  field
 *  0       4    magic "RSTC"
 *  4       4    format version (1)
 *  8       8    log position: every record before it is reflected, none at or after it
 * 16       4    entry count N
 * 20       .    N entries:  u16 name length L | L bytes UTF-8 name | i64 last version | i64 last position
 *  .       4    recent event id count M
 *  .       .    M entries:  16 bytes event id | u16 L | L bytes UTF-8 stream | i64 version | i64 position
 *  .       4    CRC32C of every byte before it
 * </pre>
 *
 * The recent event ids keep appends idempotent for a client that retries across a restart.
 * Big-endian (DataOutputStream order; this file is read once at start, not on a hot path).
 * Written atomically: temp file, force, rename over the old one, force the folder. A checkpoint
 * that fails its checks is ignored with a warning and the log is scanned from its start, since
 * the table is derived data.
 */
public final class StreamTableCheckpoint {
    public static final int MAGIC = 0x52535443; // "RSTC"
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "stream-table.ckpt";

    private StreamTableCheckpoint() {}

    /** A checkpoint as read back. */
    public record Loaded(long position, StreamTable table, List<RecentEventIds.Entry> recentIds) {}

    public static void write(StorageIo io, Path dir, long position, StreamTable.Snapshot table,
                             List<RecentEventIds.Entry> recentIds) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + table.size() * 40);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeLong(position);
        out.writeInt(table.size());
        IOException[] failure = new IOException[1];
        table.forEach((stream, version, last) -> {
            try {
                byte[] name = stream.getBytes(StandardCharsets.UTF_8);
                out.writeShort(name.length);
                out.write(name);
                out.writeLong(version);
                out.writeLong(last);
            } catch (IOException e) {
                failure[0] = e;
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
        out.writeInt(recentIds.size());
        for (RecentEventIds.Entry e : recentIds) {
            byte[] name = e.stream().getBytes(StandardCharsets.UTF_8);
            out.write(e.eventId());
            out.writeShort(name.length);
            out.write(name);
            out.writeLong(e.version());
            out.writeLong(e.position());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        out.flush();
        io.createDirectories(dir);
        Path temp = dir.resolve(FILE_NAME + ".tmp");
        io.writeFile(temp, bytes.toByteArray());
        io.rename(temp, dir.resolve(FILE_NAME));
        io.forceDirectory(dir);
    }

    /**
     * Reads the checkpoint in {@code dir}; null when there is none.
     *
     * @throws IOException when it exists but is damaged (the caller falls back to a full scan)
     */
    public static Loaded read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (content.length < 24) {
            throw new IOException("checkpoint too short: file=" + file + " bytes=" + content.length);
        }
        CRC32C crc = new CRC32C();
        crc.update(content, 0, content.length - 4);
        ByteBuffer buf = ByteBuffer.wrap(content).order(ByteOrder.BIG_ENDIAN);
        if ((int) crc.getValue() != buf.getInt(content.length - 4)) {
            throw new IOException("checkpoint checksum mismatch: file=" + file);
        }
        if (buf.getInt() != MAGIC) {
            throw new IOException("checkpoint bad magic: file=" + file);
        }
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new IOException("checkpoint unsupported version: file=" + file + " version=" + version);
        }
        long position = buf.getLong();
        int count = buf.getInt();
        StreamTable table = new StreamTable();
        List<RecentEventIds.Entry> ids = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                int length = Short.toUnsignedInt(buf.getShort());
                String name = new String(content, buf.position(), length, StandardCharsets.UTF_8);
                buf.position(buf.position() + length);
                table.put(name, buf.getLong(), buf.getLong());
            }
            int idCount = buf.getInt();
            for (int i = 0; i < idCount; i++) {
                byte[] id = new byte[16];
                buf.get(id);
                int length = Short.toUnsignedInt(buf.getShort());
                String name = new String(content, buf.position(), length, StandardCharsets.UTF_8);
                buf.position(buf.position() + length);
                ids.add(new RecentEventIds.Entry(id, name, buf.getLong(), buf.getLong()));
            }
        } catch (RuntimeException e) {
            throw new IOException("checkpoint entries malformed: file=" + file + " error=" + e, e);
        }
        if (buf.position() != content.length - 4) {
            throw new IOException("checkpoint trailing bytes: file=" + file);
        }
        return new Loaded(position, table, ids);
    }

    /**
     * Deletes the checkpoint in {@code dir} and forces the folder (repair: the table may describe
     * records the repair cuts). Returns whether there was one.
     */
    public static boolean remove(StorageIo io, Path dir) throws IOException {
        if (!io.deleteIfExists(dir.resolve(FILE_NAME))) {
            return false;
        }
        io.forceDirectory(dir);
        return true;
    }

    /** Removes a leftover temp file (crash window: a checkpoint was being written). */
    public static void removeTemp(StorageIo io, Path dir) throws IOException {
        io.deleteIfExists(dir.resolve(FILE_NAME + ".tmp"));
    }
}
