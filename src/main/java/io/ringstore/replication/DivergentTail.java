package io.ringstore.replication;

import io.ringstore.log.MainLog;
import io.ringstore.log.StorageIo;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.tinylog.Logger;

/**
 * A board's log past where its epoch ended on the primary: bytes it wrote (or held) that the
 * primary does not have. They are moved into {@code diverged/<epoch>-<position>.log} in the
 * data folder before the log is cut, reported in the journal and status, and never deleted by
 * the store: a person decides what to do with them.
 *
 * <p>A set-aside file:
 * <pre>
 * +---------------------------------------------------------------+
 * | magic "RSDV" (int32) | version 1 (int32)                      |  0
 * | epoch the bytes were written in (int64)                       |  8
 * | position where the cut was made (int64)                       | 16
 * | chunks, each: position (int64), length L (int32), L bytes of  | 24
 * |   CRC-framed records exactly as they were in the segment      |
 * |   ({@link io.ringstore.log.RecordFrame}); in log order        |
 * +---------------------------------------------------------------+
 * </pre>
 * Little-endian. Written whole: temp, force, rename, force folder.
 *
 * <p>Cutting below what the stream table already holds (a primary's own acknowledged history)
 * cannot be done while the store runs: the table, the tail index, the stream files and the
 * checkpoints all describe the cut records. Then a durable marker {@code diverged/pending}
 * (epoch int64, position int64, CRC32C int32; little-endian) is written first, and the next
 * open of the store does the cut before anything else reads the log (see {@link #completePending}).
 */
public final class DivergentTail {
    public static final String DIR = "diverged";
    public static final String PENDING = "pending";
    public static final int MAGIC = 0x56445352; // "RSDV"
    public static final int VERSION = 1;

    private DivergentTail() {}

    /** A cut the next open must make. */
    public record Pending(long epoch, long position) {}

    public static Path file(Path dataDir, long epoch, long position) {
        return dataDir.resolve(DIR).resolve(epoch + "-" + position + ".log");
    }

    /**
     * Copies the log's bytes from {@code position} to its write position into the set-aside
     * file, unless that file is already there (a crash after it was written and before the cut).
     *
     * @return the file, or null when there was nothing past {@code position}
     */
    public static Path save(StorageIo io, Path dataDir, MainLog log, long epoch, long position) throws IOException {
        long end = log.writePosition();
        if (end <= position) {
            return null;
        }
        Path target = file(dataDir, epoch, position);
        if (Files.exists(target)) {
            return target;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(MAGIC).putInt(VERSION).putLong(epoch).putLong(position);
        buf.write(head.array());
        long at = position;
        while (at < end) {
            MainLog.RawFrames f = log.copyFrames(at, end, 4 << 20);
            if (f == null) {
                break;
            }
            ByteBuffer c = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            c.putLong(f.position()).putInt(f.bytes().length);
            buf.write(c.array());
            buf.write(f.bytes());
            at = f.end();
        }
        io.createDirectoriesDurably(target.getParent());
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        io.writeFile(temp, buf.toByteArray());
        io.rename(temp, target);
        io.forceDirectory(target.getParent());
        Logger.warn("set aside the divergent tail of the log: bytes past position={} of epoch={} are not on the primary; "
                + "kept in file={} bytes={} (never deleted by the store)", position, epoch, target, buf.size() - 24);
        return target;
    }

    /** Records durably that the next open must cut the log at {@code position}. */
    public static void markPending(StorageIo io, Path dataDir, long epoch, long position) throws IOException {
        Path dir = dataDir.resolve(DIR);
        io.createDirectoriesDurably(dir);
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(epoch).putLong(position);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16);
        b.putInt((int) crc.getValue());
        Path temp = dir.resolve(PENDING + ".tmp");
        io.writeFile(temp, b.array());
        io.rename(temp, dir.resolve(PENDING));
        io.forceDirectory(dir);
    }

    /** The cut the last run asked for, or null. */
    public static Pending pending(Path dataDir) throws IOException {
        Path file = dataDir.resolve(DIR).resolve(PENDING);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, Math.min(16, bytes.length));
        if (bytes.length != 20 || (int) crc.getValue() != b.getInt(16)) {
            throw new IOException("damaged divergence marker (remove it only after checking the log) file=" + file);
        }
        return new Pending(b.getLong(0), b.getLong(8));
    }

    /** The cut is done (log cut, table rebuilt, stream files cut): forget the marker. */
    public static void clearPending(StorageIo io, Path dataDir) throws IOException {
        Path dir = dataDir.resolve(DIR);
        if (io.deleteIfExists(dir.resolve(PENDING))) {
            io.forceDirectory(dir);
        }
    }

    /** The set-aside files in the data folder, for status. */
    public static List<Path> list(Path dataDir) {
        List<Path> out = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(dataDir.resolve(DIR), "*.log")) {
            ds.forEach(out::add);
        } catch (IOException e) {
            // No folder: nothing set aside.
        }
        out.sort(null);
        return out;
    }

    /**
     * Makes the cut a {@link #markPending} asked for, on a closed data folder, before the store
     * opens: the log's tail goes to the set-aside file, the log is cut, the epochs that started
     * past the cut are dropped, and the stream-table checkpoint is removed (it may describe cut
     * records), so that the open scans the whole log and rebuilds the table; the caller then cuts
     * the stream files to the table and clears the marker.
     *
     * <p>Crash windows: each step can be repeated. The set-aside file is written whole or not at
     * all and is not rewritten once there; a cut already made finds nothing past the position;
     * the checkpoints are lowered or removed idempotently; the marker stays until the caller has cut
     * the stream files.
     */
    public static void completePending(io.ringstore.store.StoreConfig config, Pending p) throws IOException {
        MainLog.Opened opened = MainLog.open(config.logDir(), config.io(), config.segmentSize(), false, 0, 0, r -> {});
        try (MainLog log = opened.log()) {
            if (p.position() < log.oldestPosition()) {
                throw new IOException("cannot cut the log at position=" + p.position() + ": it was reclaimed (oldest="
                        + log.oldestPosition() + "); re-seed this board from a copy of the primary");
            }
            if (p.position() < log.writePosition()) {
                save(config.io(), config.dataDir(), log, p.epoch(), p.position());
                log.truncateTo(p.position());
            }
        }
        EpochHistory h = EpochHistory.load(config.dataDir());
        EpochHistory cut = h.cutAt(p.position());
        if (!cut.entries().equals(h.entries())) {
            cut.write(config.io(), config.dataDir());
        }
        io.ringstore.checkpoint.StreamTableCheckpoint.remove(config.io(), config.checkpointDir());
        // The splitter's checkpoint also vouches that the log was forced up to it (recovery
        // treats a gap below it as damage): it must not point past the cut. Stream files that
        // hold cut events are cut to the rebuilt table by the open.
        long split;
        try {
            split = io.ringstore.split.SplitterCheckpoint.read(config.checkpointDir());
        } catch (IOException e) {
            split = 0;
        }
        if (split > p.position()) {
            io.ringstore.split.SplitterCheckpoint.write(config.io(), config.checkpointDir(), p.position());
        }
        Logger.warn("cut the log at position={} (end of epoch {} on the primary); the stream table is rebuilt from the log",
                p.position(), p.epoch());
    }
}
