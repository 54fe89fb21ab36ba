package io.ringstore.replication;

import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Where each epoch starts in this board's log: the file {@code epochs} in the data folder. An
 * epoch is a primary's term; promotion starts a new one at the end of the promoted board's log.
 * A board that comes back asks the primary where its own last epoch ended there (Kafka KIP-101)
 * and cuts its log at that position, instead of trusting how far it had got.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |                       magic "RSEP"                            |  0
 * +---------------------------------------------------------------+
 * |                       format version (1)                      |  4
 * +---------------------------------------------------------------+
 * |                       entry count N (int32)                   |  8
 * +---------------------------------------------------------------+
 * |  N entries, oldest first, each 16 bytes:                      | 12
 * |    epoch (int64), start position (int64)                      |
 * +---------------------------------------------------------------+
 * |  CRC32C of bytes 0 .. 12 + 16 N (int32)                       |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * Little-endian. Epochs strictly increase and start positions never decrease. A missing file is
 * the history of a board that was never promoted: epoch 0 from position 0. The file is replaced
 * whole (temp, force, rename, force folder): a crash leaves the old history or the new one.
 */
public final class EpochHistory {
    public static final String FILE_NAME = "epochs";
    public static final int MAGIC = 0x50455352; // "RSEP" as little-endian bytes
    public static final int FORMAT_VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    static final int COUNT_OFFSET = VERSION_OFFSET + Integer.BYTES;
    static final int ENTRIES_OFFSET = COUNT_OFFSET + Integer.BYTES;
    static final int ENTRY_LENGTH = Long.BYTES + Long.BYTES;
    /** More epochs than a board sees in its life; bounds what a damaged count can make us read. */
    static final int MAX_ENTRIES = 1 << 16;

    /** One epoch and the log position where it begins. */
    public record Entry(long epoch, long start) {}

    private final List<Entry> entries;

    public EpochHistory(List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("an epoch history has at least one epoch");
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).epoch() <= entries.get(i - 1).epoch() || entries.get(i).start() < entries.get(i - 1).start()) {
                throw new IllegalArgumentException("epochs must increase and start no earlier: " + entries);
            }
        }
        this.entries = List.copyOf(entries);
    }

    public static EpochHistory initial() {
        return new EpochHistory(List.of(new Entry(0, 0)));
    }

    public List<Entry> entries() {
        return entries;
    }

    public long currentEpoch() {
        return entries.getLast().epoch();
    }

    public long currentStart() {
        return entries.getLast().start();
    }

    /**
     * Where {@code epoch} ended on this board (KIP-101's end offset): the start of the first
     * later epoch, or {@code logEnd} if it is the current one; -1 when this board never had an
     * epoch that old or it is newer than ours (the asker is ahead or unrelated).
     */
    public long endOf(long epoch, long logEnd) {
        if (epoch > currentEpoch() || epoch < entries.getFirst().epoch()) {
            return -1;
        }
        for (Entry e : entries) {
            if (e.epoch() > epoch) {
                return e.start();
            }
        }
        return logEnd;
    }

    /** The history with a new epoch starting at {@code start}. */
    public EpochHistory with(long epoch, long start) {
        List<Entry> more = new ArrayList<>(entries);
        more.add(new Entry(epoch, start));
        return new EpochHistory(more);
    }

    /** This history's entries that start at or before {@code position}: what a standby holding that much may claim. */
    public EpochHistory upTo(long position) {
        List<Entry> kept = entries.stream().filter(e -> e.start() <= position).toList();
        return kept.isEmpty() ? this : new EpochHistory(kept);
    }

    /** The epochs a board keeps after cutting its log at {@code position}: those that start before it (the first always). */
    public EpochHistory cutAt(long position) {
        List<Entry> kept = new ArrayList<>();
        for (Entry e : entries) {
            if (kept.isEmpty() || e.start() < position) {
                kept.add(e);
            }
        }
        return new EpochHistory(kept);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(ENTRIES_OFFSET + entries.size() * ENTRY_LENGTH + Integer.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(FORMAT_VERSION).putInt(entries.size());
        for (Entry e : entries) {
            b.putLong(e.epoch()).putLong(e.start());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** @throws IOException naming the file when it is damaged */
    public static EpochHistory decode(byte[] bytes, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < ENTRIES_OFFSET + Integer.BYTES || b.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new IOException("epoch history damaged: bad magic or too short file=" + file);
        }
        if (b.getInt(VERSION_OFFSET) != FORMAT_VERSION) {
            throw new IOException("epoch history: unsupported version " + b.getInt(VERSION_OFFSET) + " file=" + file);
        }
        int n = b.getInt(COUNT_OFFSET);
        if (n < 1 || n > MAX_ENTRIES || bytes.length != ENTRIES_OFFSET + n * ENTRY_LENGTH + Integer.BYTES) {
            throw new IOException("epoch history damaged: count=" + n + " bytes=" + bytes.length + " file=" + file);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - Integer.BYTES);
        if ((int) crc.getValue() != b.getInt(bytes.length - Integer.BYTES)) {
            throw new IOException("epoch history damaged: checksum mismatch file=" + file);
        }
        List<Entry> list = new ArrayList<>();
        b.position(ENTRIES_OFFSET);
        for (int i = 0; i < n; i++) {
            list.add(new Entry(b.getLong(), b.getLong()));
        }
        try {
            return new EpochHistory(list);
        } catch (IllegalArgumentException e) {
            throw new IOException("epoch history damaged: " + e.getMessage() + " file=" + file);
        }
    }

    /** Reads the history in {@code dataDir}; the initial one when the file does not exist. */
    public static EpochHistory load(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        try {
            return decode(Files.readAllBytes(file), file);
        } catch (NoSuchFileException e) {
            return initial();
        }
    }

    /** Replaces the history in {@code dataDir}: temp, force, rename, force folder. */
    public void write(StorageIo io, Path dataDir) throws IOException {
        Path temp = dataDir.resolve(FILE_NAME + ".tmp");
        // Crash window: before the rename the old history stands (a temp file is overwritten
        // next time); after the folder force, the new one.
        io.writeFile(temp, encode());
        io.rename(temp, dataDir.resolve(FILE_NAME));
        io.forceDirectory(dataDir);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (Entry e : entries) {
            s.append(s.isEmpty() ? "" : ",").append(e.epoch()).append('@').append(e.start());
        }
        return s.toString();
    }
}
