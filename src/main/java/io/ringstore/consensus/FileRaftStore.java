package io.ringstore.consensus;

import io.microraft.RaftEndpoint;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStore;
import io.microraft.persistence.RestoredRaftState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.tinylog.Logger;

/**
 * Raft's persistent state (this voter's endpoint, the initial members, term and vote, log
 * entries, snapshot chunks) in one append-only file, {@code STATE_DIR/raft-state}, forced with
 * fsync where MicroRaft asks for durability. The state is small (a few entries per election and
 * per change of primary), so the file is replayed whole at start and rewritten whole when it has
 * grown past {@link #COMPACT_BYTES} of mostly dead records.
 *
 * <p>Byte layout, big-endian:
 * <pre>
 * file header, 16 bytes:
 *   offset 0   magic, 8 bytes, ASCII "RSRAFT\0\1"
 *   offset 8   version int32 (1)
 *   offset 12  CRC32C of bytes 0..11, int32
 * then records, each:
 *   offset 0   length L int32 (of type + payload; 1 .. MAX_RECORD)
 *   offset 4   CRC32C int32 over the L bytes that follow (type and payload)
 *   offset 8   type int8
 *   offset 9   payload, L - 1 bytes (shapes from {@link GroupCodec})
 * record types:
 *   1 LOCAL_ENDPOINT   voter name str, voting bool
 *   2 INITIAL_MEMBERS  members view
 *   3 TERM             term int32, has vote bool, [voted for str]
 *   4 LOG_ENTRY        entry
 *   5 SNAPSHOT_CHUNK   chunk
 *   6 TRUNCATE_FROM    index int64: entries at and after it are gone
 *   7 TRUNCATE_UNTIL   index int64: entries at and before it are gone (they are in a snapshot)
 *   8 DELETE_CHUNKS    snapshot index int64: the partial snapshot's chunks there are gone
 * </pre>
 * A record counts once its CRC matches: it is written in one write after the previous ones, and
 * the CRC is what makes it valid (commit point). Later records win over earlier ones (a TERM
 * record replaces the previous term; a TRUNCATE removes entries written before it).
 *
 * <p>Crash windows, named where they are handled:
 * <ul>
 *   <li>TORN_TAIL: a crash or power cut while appending leaves a partial or unforced last
 *       record. {@link #open} cuts the file at the first record whose length runs past the end or
 *       whose CRC does not match, forces the cut, and logs file, offset and bytes cut. Everything
 *       MicroRaft was told was durable (forced before the call returned) lies before it.
 *   <li>COMPACT_TEMP: a crash while writing {@code raft-state.compact} leaves it half-written;
 *       {@link #open} deletes it (the live file is untouched until the rename).
 *   <li>COMPACT_RENAME: a crash around the rename leaves either the old or the new file under
 *       the live name; both are complete (the new one was forced before the rename, and the
 *       folder is forced after it).
 *   <li>FIRST_START: a crash during the very first start, after the endpoint record but before
 *       the members record: {@link #open} finds no complete bootstrap and starts fresh.
 * </ul>
 */
final class FileRaftStore implements RaftStore, AutoCloseable {
    static final String FILE_NAME = "raft-state";
    static final String COMPACT_NAME = "raft-state.compact";
    static final byte[] MAGIC = {'R', 'S', 'R', 'A', 'F', 'T', 0, 1};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 16;
    static final int RECORD_HEADER_BYTES = 8; // length + CRC
    static final int MAX_RECORD = GroupCodec.MAX_FRAME;
    /** Rewrite the file once it is this large; the live state is a few kilobytes. */
    static final long COMPACT_BYTES = 256 * 1024;

    static final byte LOCAL_ENDPOINT = 1;
    static final byte INITIAL_MEMBERS = 2;
    static final byte TERM = 3;
    static final byte LOG_ENTRY = 4;
    static final byte SNAPSHOT_CHUNK = 5;
    static final byte TRUNCATE_FROM = 6;
    static final byte TRUNCATE_UNTIL = 7;
    static final byte DELETE_CHUNKS = 8;

    private final Path dir;
    private final Path file;
    private FileChannel channel;
    private final Replay live;

    /** What the records say, replayed: the live state, kept current as records are appended. */
    private static final class Replay {
        RaftEndpoint endpoint;
        boolean voting;
        RaftGroupMembersView initialMembers;
        int term;
        RaftEndpoint votedFor;
        final TreeMap<Long, LogEntry> entries = new TreeMap<>();
        /** snapshot index -> chunk index -> chunk */
        final TreeMap<Long, TreeMap<Integer, SnapshotChunk>> chunks = new TreeMap<>();

        void apply(byte type, DataInputStream in) throws IOException {
            switch (type) {
                case LOCAL_ENDPOINT -> {
                    endpoint = GroupCodec.readEndpoint(in);
                    voting = in.readBoolean();
                }
                case INITIAL_MEMBERS -> initialMembers = GroupCodec.readMembersView(in);
                case TERM -> {
                    term = in.readInt();
                    votedFor = in.readBoolean() ? GroupCodec.readEndpoint(in) : null;
                }
                case LOG_ENTRY -> {
                    LogEntry e = GroupCodec.readEntry(in);
                    entries.tailMap(e.getIndex(), true).clear(); // a rewritten index replaces what followed it
                    entries.put(e.getIndex(), e);
                }
                case SNAPSHOT_CHUNK -> {
                    SnapshotChunk c = GroupCodec.readChunk(in);
                    chunks.computeIfAbsent(c.getIndex(), i -> new TreeMap<>()).put(c.getSnapshotChunkIndex(), c);
                    if (complete(c.getIndex())) {
                        chunks.headMap(c.getIndex(), false).clear(); // older snapshots are superseded
                    }
                }
                case TRUNCATE_FROM -> entries.tailMap(in.readLong(), true).clear();
                case TRUNCATE_UNTIL -> entries.headMap(in.readLong(), true).clear();
                case DELETE_CHUNKS -> chunks.remove(in.readLong());
                default -> throw new GroupCodec.BadFrame("unknown record type " + type);
            }
            GroupCodec.expectEnd(in);
        }

        boolean complete(long snapshotIndex) {
            TreeMap<Integer, SnapshotChunk> cs = chunks.get(snapshotIndex);
            return cs != null && !cs.isEmpty() && cs.size() == cs.firstEntry().getValue().getSnapshotChunkCount();
        }

        Optional<Long> latestCompleteSnapshot() {
            for (Long index : chunks.descendingKeySet()) {
                if (complete(index)) {
                    return Optional.of(index);
                }
            }
            return Optional.empty();
        }
    }

    private FileRaftStore(Path dir, FileChannel channel, Replay live) {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.channel = channel;
        this.live = live;
    }

    /** Opens (creating if needed) the store in {@code dir}, replaying and repairing what it holds. */
    static FileRaftStore open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_NAME);
        // Crash window COMPACT_TEMP: a rewrite that did not reach its rename; the live file is whole.
        if (Files.deleteIfExists(dir.resolve(COMPACT_NAME))) {
            Logger.warn("raft store {}: removed an unfinished rewrite ({})", dir, COMPACT_NAME);
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            Replay replay = new Replay();
            long size = ch.size();
            if (size < HEADER_BYTES) {
                // A new file, or one cut before its header was forced (nothing after it can have been).
                ch.truncate(0);
                ch.write(ByteBuffer.wrap(header()), 0);
                ch.force(true);
                forceDirectory(dir);
            } else {
                checkHeader(ch, file);
                long end = replay(ch, replay, file);
                if (end < size) {
                    // Crash window TORN_TAIL: the last append did not complete (or was not forced).
                    Logger.warn("raft store {}: cut a torn tail at offset {} ({} bytes)", file, end, size - end);
                    ch.truncate(end);
                    ch.force(true);
                }
            }
            ch.position(ch.size());
            return new FileRaftStore(dir, ch, replay);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static byte[] header() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.put(MAGIC).putInt(VERSION);
        b.putInt(crc(b.array(), 0, 12));
        return b.array();
    }

    private static void checkHeader(FileChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        readFully(ch, b, 0);
        byte[] expected = header();
        if (!java.util.Arrays.equals(b.array(), expected)) {
            throw new IOException("raft store " + file + ": not a ringstore Raft state file of version " + VERSION
                    + " (header differs at offset 0; move it away to start this voter empty)");
        }
    }

    /** Replays records from the header on; returns the offset after the last valid one. */
    private static long replay(FileChannel ch, Replay replay, Path file) throws IOException {
        long pos = HEADER_BYTES;
        long size = ch.size();
        ByteBuffer head = ByteBuffer.allocate(RECORD_HEADER_BYTES);
        while (pos + RECORD_HEADER_BYTES <= size) {
            head.clear();
            readFully(ch, head, pos);
            int length = head.getInt(0);
            int crc = head.getInt(4);
            if (length < 1 || length > MAX_RECORD || pos + RECORD_HEADER_BYTES + length > size) {
                return pos;
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(ch, body, pos + RECORD_HEADER_BYTES);
            if (crc(body.array(), 0, length) != crc) {
                return pos;
            }
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(body.array(), 1, length - 1));
            try {
                replay.apply(body.get(0), in);
            } catch (IOException e) {
                // A record whose CRC matches but whose content does not parse was written by
                // another version: stop here rather than guess (and say so; this is not a torn tail).
                throw new IOException("raft store " + file + ": record at offset " + pos + " is not understood: "
                        + e.getMessage(), e);
            }
            pos += RECORD_HEADER_BYTES + length;
        }
        return pos;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw new IOException("unexpected end of file at " + (pos + b.position()));
            }
        }
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /**
     * What MicroRaft restores from, or empty when this voter has never started (or its first start
     * was cut short: crash window FIRST_START).
     */
    Optional<RestoredRaftState> restored() {
        if (live.endpoint == null || live.initialMembers == null) {
            return Optional.empty();
        }
        RaftEndpointPersistentState endpoint = GroupCodec.MODEL.createRaftEndpointPersistentStateBuilder()
                .setLocalEndpoint(live.endpoint).setVoting(live.voting).build();
        RaftTermPersistentState term = GroupCodec.MODEL.createRaftTermPersistentStateBuilder().setTerm(live.term)
                .setVotedFor(live.votedFor).build();
        SnapshotEntry snapshot = null;
        long after = 0;
        Optional<Long> s = live.latestCompleteSnapshot();
        if (s.isPresent()) {
            List<SnapshotChunk> chunks = new ArrayList<>(live.chunks.get(s.get()).values());
            SnapshotChunk first = chunks.getFirst();
            snapshot = GroupCodec.MODEL.createSnapshotEntryBuilder().setIndex(first.getIndex()).setTerm(first.getTerm())
                    .setSnapshotChunks(chunks).setGroupMembersView(first.getGroupMembersView()).build();
            after = s.get();
        }
        // MicroRaft wants the entries after the snapshot without a gap.
        List<LogEntry> entries = new ArrayList<>();
        long expect = after + 1;
        for (LogEntry e : live.entries.tailMap(after, false).values()) {
            if (e.getIndex() != expect) {
                Logger.warn("raft store {}: log entries stop at index {} (next held is {}); the rest is fetched from the leader",
                        file, expect - 1, e.getIndex());
                break;
            }
            entries.add(e);
            expect++;
        }
        return Optional.of(new RestoredRaftState(endpoint, live.initialMembers, term, snapshot, entries));
    }

    /** The name this state belongs to, if any was persisted. */
    Optional<String> persistedBoard() {
        return Optional.ofNullable(live.endpoint).map(e -> (String) e.getId());
    }

    /** The initial voters persisted at the first start. */
    List<String> persistedVoters() {
        if (live.initialMembers == null) {
            return List.of();
        }
        return live.initialMembers.getVotingMembers().stream().map(e -> (String) e.getId()).toList();
    }

    // ---------------------------------------------------------------- RaftStore

    @Override
    public synchronized void persistAndFlushLocalEndpoint(RaftEndpointPersistentState state) throws IOException {
        append(LOCAL_ENDPOINT, out -> {
            GroupCodec.writeEndpoint(out, state.getLocalEndpoint());
            out.writeBoolean(state.isVoting());
        });
        force();
    }

    @Override
    public synchronized void persistAndFlushInitialGroupMembers(RaftGroupMembersView members) throws IOException {
        append(INITIAL_MEMBERS, out -> GroupCodec.writeMembersView(out, members));
        force();
    }

    @Override
    public synchronized void persistAndFlushTerm(RaftTermPersistentState state) throws IOException {
        append(TERM, out -> writeTerm(out, state.getTerm(), state.getVotedFor()));
        force();
    }

    @Override
    public synchronized void persistLogEntries(List<LogEntry> entries) throws IOException {
        for (LogEntry e : entries) {
            append(LOG_ENTRY, out -> GroupCodec.writeEntry(out, e));
        }
    }

    @Override
    public synchronized void persistSnapshotChunk(SnapshotChunk chunk) throws IOException {
        append(SNAPSHOT_CHUNK, out -> GroupCodec.writeChunk(out, chunk));
    }

    @Override
    public synchronized void truncateLogEntriesFrom(long indexInclusive) throws IOException {
        append(TRUNCATE_FROM, out -> out.writeLong(indexInclusive));
    }

    @Override
    public synchronized void truncateLogEntriesUntil(long indexInclusive) throws IOException {
        append(TRUNCATE_UNTIL, out -> out.writeLong(indexInclusive));
    }

    @Override
    public synchronized void deleteSnapshotChunks(long logIndex, int snapshotChunkCount) throws IOException {
        append(DELETE_CHUNKS, out -> out.writeLong(logIndex));
    }

    @Override
    public synchronized void flush() throws IOException {
        force();
        if (channel.size() > COMPACT_BYTES) {
            compact();
        }
    }

    private static void writeTerm(DataOutputStream out, int term, RaftEndpoint votedFor) throws IOException {
        out.writeInt(term);
        out.writeBoolean(votedFor != null);
        if (votedFor != null) {
            GroupCodec.writeEndpoint(out, votedFor);
        }
    }

    @FunctionalInterface
    private interface Payload {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] record(byte type, Payload payload) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeLong(0); // length and CRC, filled in below
        out.writeByte(type);
        payload.write(out);
        out.flush();
        byte[] b = bytes.toByteArray();
        int length = b.length - RECORD_HEADER_BYTES;
        if (length > MAX_RECORD) {
            throw new IOException("a Raft record of " + length + " bytes exceeds " + MAX_RECORD);
        }
        ByteBuffer.wrap(b).putInt(0, length).putInt(4, crc(b, RECORD_HEADER_BYTES, length));
        return b;
    }

    /** Appends one record and applies it to the live state (so a rewrite writes what a replay would find). */
    private void append(byte type, Payload payload) throws IOException {
        byte[] b = record(type, payload);
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            channel.write(buf); // commit point: the record counts once all of it (with its CRC) is there
        }
        live.apply(type, new DataInputStream(new ByteArrayInputStream(b, RECORD_HEADER_BYTES + 1,
                b.length - RECORD_HEADER_BYTES - 1)));
    }

    private void force() throws IOException {
        long start = System.nanoTime();
        channel.force(false);
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (millis > 500) {
            Logger.warn("raft store {}: fsync took {} ms", file, millis);
        }
    }

    /** Rewrites the live state into a new file and renames it over the old one. */
    private void compact() throws IOException {
        Path temp = dir.resolve(COMPACT_NAME);
        long before = channel.size();
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            List<byte[]> records = new ArrayList<>();
            records.add(header());
            if (live.endpoint != null) {
                records.add(record(LOCAL_ENDPOINT, o -> {
                    GroupCodec.writeEndpoint(o, live.endpoint);
                    o.writeBoolean(live.voting);
                }));
            }
            if (live.initialMembers != null) {
                records.add(record(INITIAL_MEMBERS, o -> GroupCodec.writeMembersView(o, live.initialMembers)));
            }
            records.add(record(TERM, o -> writeTerm(o, live.term, live.votedFor)));
            for (Map.Entry<Long, TreeMap<Integer, SnapshotChunk>> s : live.chunks.entrySet()) {
                for (SnapshotChunk c : s.getValue().values()) {
                    records.add(record(SNAPSHOT_CHUNK, o -> GroupCodec.writeChunk(o, c)));
                }
            }
            for (LogEntry e : live.entries.values()) {
                records.add(record(LOG_ENTRY, o -> GroupCodec.writeEntry(o, e)));
            }
            for (byte[] r : records) {
                ByteBuffer buf = ByteBuffer.wrap(r);
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
            }
            out.force(true);
        }
        // Crash window COMPACT_RENAME: old or new file under the live name, both whole.
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(dir);
        channel.close();
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.position(channel.size());
        Logger.info("raft store {}: rewrote {} bytes as {}", file, before, channel.size());
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
