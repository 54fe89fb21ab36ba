package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.persistence.RestoredRaftState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's replay: term, vote, entries, truncations and snapshots come back as written; a tail
 * cut anywhere inside the last record, or a flipped byte in it, loses exactly that record; a
 * rewrite keeps the live state; a left-over rewrite file is removed; a foreign file is refused.
 */
class FileRaftStoreTest {
    private static final RaftModelFactory M = GroupCodec.MODEL;
    private static final RaftEndpoint B1 = new VoterEndpoint("b1");
    private static final RaftEndpoint B2 = new VoterEndpoint("b2");

    @TempDir
    Path dir;

    private static LogEntry entry(long index, int term, Object op) {
        return M.createLogEntryBuilder().setIndex(index).setTerm(term).setOperation(op).build();
    }

    private static void bootstrap(FileRaftStore s) throws IOException {
        s.persistAndFlushLocalEndpoint(M.createRaftEndpointPersistentStateBuilder().setLocalEndpoint(B1).setVoting(true).build());
        s.persistAndFlushInitialGroupMembers(M.createRaftGroupMembersViewBuilder().setLogIndex(0)
                .setMembers(List.of(B1, B2)).setVotingMembers(List.of(B1, B2)).build());
    }

    @Test
    void replaysWhatWasWritten() throws IOException {
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            assertTrue(s.restored().isEmpty(), "nothing to restore before the first start");
            bootstrap(s);
            s.persistAndFlushTerm(M.createRaftTermPersistentStateBuilder().setTerm(1).setVotedFor(B2).build());
            s.persistLogEntries(List.of(entry(1, 1, GroupOps.NewTerm.INSTANCE),
                    entry(2, 1, new GroupChange.NewPrimary(0, 1, "b1", List.of("b1"))),
                    entry(3, 1, new GroupChange.SetInSync(1, "b1", List.of("b1", "b2")))));
            s.truncateLogEntriesFrom(3); // an uncommitted entry undone by a new leader
            s.persistAndFlushTerm(M.createRaftTermPersistentStateBuilder().setTerm(2).setVotedFor(null).build());
            s.persistLogEntries(List.of(entry(3, 2, GroupOps.NewTerm.INSTANCE)));
            s.flush();
        }
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            RestoredRaftState r = s.restored().orElseThrow();
            assertEquals(B1, r.getLocalEndpointPersistentState().getLocalEndpoint());
            assertEquals(2, r.getTermPersistentState().getTerm());
            assertNull(r.getTermPersistentState().getVotedFor());
            assertNull(r.getSnapshotEntry());
            List<LogEntry> es = r.getLogEntries();
            assertEquals(List.of(1L, 2L, 3L), es.stream().map(LogEntry::getIndex).toList());
            assertEquals(2, es.get(2).getTerm());
            assertEquals(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1")), es.get(1).getOperation());
            assertEquals(List.of("b1", "b2"), s.persistedVoters());
        }
    }

    @Test
    void snapshotThenRewriteKeepsTheLiveState() throws IOException {
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            bootstrap(s);
            s.persistAndFlushTerm(M.createRaftTermPersistentStateBuilder().setTerm(7).setVotedFor(B1).build());
            // Enough entries to pass the rewrite threshold.
            int n = 6000;
            for (int i = 1; i <= n; i++) {
                s.persistLogEntries(List.of(entry(i, 7, new GroupChange.SetInSync(1, "b1", List.of("b1", "b2", "b" + i)))));
            }
            s.persistSnapshotChunk(M.createSnapshotChunkBuilder().setIndex(n - 10).setTerm(7).setSnapshotChunkIndex(0)
                    .setSnapshotChunkCount(1).setGroupMembersView(M.createRaftGroupMembersViewBuilder().setLogIndex(0)
                            .setMembers(List.of(B1, B2)).setVotingMembers(List.of(B1, B2)).build())
                    .setOperation(new GroupState(1, "b1", List.of("b1"), n - 10)).build());
            s.truncateLogEntriesUntil(n - 20);
            long before = Files.size(dir.resolve(FileRaftStore.FILE_NAME));
            assertTrue(before > FileRaftStore.COMPACT_BYTES, "test wrote " + before + " bytes");
            s.flush(); // rewrites
            assertTrue(Files.size(dir.resolve(FileRaftStore.FILE_NAME)) < 4096);
        }
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            RestoredRaftState r = s.restored().orElseThrow();
            assertEquals(7, r.getTermPersistentState().getTerm());
            assertEquals(B1, r.getTermPersistentState().getVotedFor());
            assertEquals(5990, r.getSnapshotEntry().getIndex());
            assertEquals(new GroupState(1, "b1", List.of("b1"), 5990), r.getSnapshotEntry().getOperation() instanceof List<?> l
                    ? ((io.microraft.model.log.SnapshotChunk) l.getFirst()).getOperation() : null);
            assertEquals(java.util.stream.LongStream.rangeClosed(5991, 6000).boxed().toList(),
                    r.getLogEntries().stream().map(LogEntry::getIndex).toList());
        }
    }

    @Test
    void aTornOrDamagedLastRecordIsCutAndOnlyIt() throws IOException {
        long goodSize;
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            bootstrap(s);
            s.persistAndFlushTerm(M.createRaftTermPersistentStateBuilder().setTerm(3).setVotedFor(B1).build());
            goodSize = Files.size(dir.resolve(FileRaftStore.FILE_NAME));
            s.persistAndFlushTerm(M.createRaftTermPersistentStateBuilder().setTerm(4).setVotedFor(B2).build());
        }
        Path file = dir.resolve(FileRaftStore.FILE_NAME);
        byte[] full = Files.readAllBytes(file);
        // Cut at every point inside the last record, and flip every byte of it.
        for (int variant = 0; variant < 2 * (full.length - (int) goodSize); variant += variant < full.length - goodSize ? 1 : 3) {
            byte[] b;
            if (variant < full.length - goodSize) {
                b = java.util.Arrays.copyOf(full, (int) goodSize + variant);
            } else {
                b = full.clone();
                b[(int) goodSize + variant - (full.length - (int) goodSize)] ^= 0x40;
            }
            Files.write(file, b);
            try (FileRaftStore s = FileRaftStore.open(dir)) {
                RestoredRaftState r = s.restored().orElseThrow();
                assertEquals(3, r.getTermPersistentState().getTerm(), "variant " + variant);
                assertEquals(goodSize, Files.size(file), "variant " + variant);
            }
        }
    }

    @Test
    void leftOverRewriteIsRemovedAndAForeignFileRefused() throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(FileRaftStore.COMPACT_NAME), new byte[] {1, 2, 3});
        try (FileRaftStore s = FileRaftStore.open(dir)) {
            bootstrap(s);
        }
        assertFalse(Files.exists(dir.resolve(FileRaftStore.COMPACT_NAME)));
        try (FileChannel ch = FileChannel.open(dir.resolve(FileRaftStore.FILE_NAME), StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("NOTRAFT!".getBytes()), 0);
        }
        IOException e = assertThrows(IOException.class, () -> FileRaftStore.open(dir));
        assertTrue(e.getMessage().contains("not a ringstore Raft state file"), e.getMessage());
    }
}
