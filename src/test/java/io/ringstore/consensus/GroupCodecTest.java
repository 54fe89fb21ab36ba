package io.ringstore.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.message.RaftMessage;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every Raft message kind and operation survives the codec with every field intact (compared by
 * MicroRaft's own toString, which prints each field), and bytes that are not a valid frame are
 * refused with {@link GroupCodec.BadFrame} (or an end of stream), never anything else.
 */
class GroupCodecTest {
    private static final RaftModelFactory M = GroupCodec.MODEL;
    private static final RaftEndpoint B1 = new VoterEndpoint("b1");
    private static final RaftEndpoint B2 = new VoterEndpoint("b2");
    private static final String G = GroupCodec.GROUP_ID;

    private static RaftGroupMembersView view() {
        return M.createRaftGroupMembersViewBuilder().setLogIndex(0).setMembers(List.of(B1, B2, new VoterEndpoint("w")))
                .setVotingMembers(List.of(B1, B2, new VoterEndpoint("w"))).build();
    }

    private static List<RaftMessage> everyKind() {
        List<LogEntry> entries = List.of(
                M.createLogEntryBuilder().setIndex(1).setTerm(1).setOperation(GroupOps.NewTerm.INSTANCE).build(),
                M.createLogEntryBuilder().setIndex(2).setTerm(1)
                        .setOperation(new GroupChange.NewPrimary(0, 1, "b1", List.of("b1", "b2"))).build(),
                M.createLogEntryBuilder().setIndex(3).setTerm(2)
                        .setOperation(new GroupChange.SetInSync(1, "b1", List.of("b1"))).build(),
                M.createLogEntryBuilder().setIndex(4).setTerm(2).setOperation(M.createUpdateRaftGroupMembersOpBuilder()
                        .setMembers(List.of(B1, B2)).setVotingMembers(List.of(B1)).setEndpoint(B2)
                        .setMode(MembershipChangeMode.ADD_LEARNER).build()).build());
        SnapshotChunk chunk = M.createSnapshotChunkBuilder().setIndex(100).setTerm(3).setSnapshotChunkIndex(0)
                .setSnapshotChunkCount(1).setGroupMembersView(view())
                .setOperation(new GroupState(4, "b2", List.of("b2", "b1"), 97)).build();
        return List.of(
                M.createAppendEntriesRequestBuilder().setGroupId(G).setSender(B1).setTerm(3).setPreviousLogTerm(2)
                        .setPreviousLogIndex(9).setCommitIndex(8).setLogEntries(entries).setQuerySequenceNumber(5)
                        .setFlowControlSequenceNumber(6).build(),
                M.createAppendEntriesSuccessResponseBuilder().setGroupId(G).setSender(B2).setTerm(3).setLastLogIndex(12)
                        .setQuerySequenceNumber(5).setFlowControlSequenceNumber(6).build(),
                M.createAppendEntriesFailureResponseBuilder().setGroupId(G).setSender(B2).setTerm(3).setExpectedNextIndex(4)
                        .setQuerySequenceNumber(5).setFlowControlSequenceNumber(7).build(),
                M.createInstallSnapshotRequestBuilder().setGroupId(G).setSender(B1).setTerm(3).setSenderLeader(true)
                        .setSnapshotTerm(3).setSnapshotIndex(100).setTotalSnapshotChunkCount(1).setSnapshotChunk(chunk)
                        .setSnapshottedMembers(List.of(B1, B2)).setGroupMembersView(view()).setQuerySequenceNumber(1)
                        .setFlowControlSequenceNumber(2).build(),
                M.createInstallSnapshotRequestBuilder().setGroupId(G).setSender(B1).setTerm(3).setSenderLeader(false)
                        .setSnapshotTerm(3).setSnapshotIndex(100).setTotalSnapshotChunkCount(1).setSnapshotChunk(null)
                        .setSnapshottedMembers(List.of()).setGroupMembersView(view()).setQuerySequenceNumber(1)
                        .setFlowControlSequenceNumber(2).build(),
                M.createInstallSnapshotResponseBuilder().setGroupId(G).setSender(B2).setTerm(3).setSnapshotIndex(100)
                        .setRequestedSnapshotChunkIndex(0).setQuerySequenceNumber(1).setFlowControlSequenceNumber(2).build(),
                M.createPreVoteRequestBuilder().setGroupId(G).setSender(B1).setTerm(4).setLastLogTerm(3).setLastLogIndex(12).build(),
                M.createPreVoteResponseBuilder().setGroupId(G).setSender(B2).setTerm(4).setGranted(true).build(),
                M.createTriggerLeaderElectionRequestBuilder().setGroupId(G).setSender(B1).setTerm(4).setLastLogTerm(3)
                        .setLastLogIndex(12).build(),
                M.createVoteRequestBuilder().setGroupId(G).setSender(B1).setTerm(5).setLastLogTerm(3).setLastLogIndex(12)
                        .setSticky(true).build(),
                M.createVoteResponseBuilder().setGroupId(G).setSender(B2).setTerm(5).setGranted(false).build());
    }

    private static GroupCodec.Frame decode(byte[] frame) throws IOException {
        return GroupCodec.readFrame(new DataInputStream(new ByteArrayInputStream(frame)));
    }

    @Test
    void everyRaftMessageKindRoundTrips() throws IOException {
        for (RaftMessage m : everyKind()) {
            GroupCodec.Frame f = decode(GroupCodec.raft(m));
            assertEquals(GroupCodec.RAFT, f.type());
            RaftMessage back = GroupCodec.readRaftMessage(f.body());
            assertEquals(m.getClass(), back.getClass());
            assertEquals(m.toString(), back.toString());
        }
    }

    @Test
    void requestsAndRepliesRoundTrip() throws IOException {
        GroupChange c = new GroupChange.NewPrimary(3, 4, "b2", List.of("b2", "b1"));
        GroupCodec.Frame f = decode(GroupCodec.propose(77, c));
        assertEquals(77, f.body().readLong());
        assertEquals(c, GroupCodec.readOperation(f.body()));
        BoardBeat beat = new BoardBeat("b1", "primary", 4, 1 << 40, 1 << 39, false, "restarted uncleanly: é", -5);
        f = decode(GroupCodec.beat(78, beat));
        assertEquals(78, f.body().readLong());
        assertEquals(beat, GroupCodec.readBeat(f.body()));
        for (GroupCodec.Reply r : List.of(
                new GroupCodec.Reply(1, GroupCodec.OUTCOME_DONE, new GroupState(4, "b2", List.of("b2"), 9), "b2", ""),
                new GroupCodec.Reply(2, GroupCodec.OUTCOME_NOT_LEADER, null, "b3", "not the leader"),
                new GroupCodec.Reply(3, GroupCodec.OUTCOME_FAILED, null, "", "lost leadership"))) {
            f = decode(GroupCodec.reply(r));
            assertEquals(GroupCodec.REPLY, f.type());
            assertEquals(r, GroupCodec.readReply(f.body()));
        }
        f = decode(GroupCodec.hello("b3"));
        assertEquals("b3", GroupCodec.readHello(f.body()));
    }

    @Test
    void badBytesAreBadFramesOrEndOfStream() {
        byte[] good = GroupCodec.raft(everyKind().getFirst());
        // Every cut of a good frame: an end of stream (the reader waits for more, then the connection ends).
        for (int cut = 0; cut < good.length; cut++) {
            byte[] part = Arrays.copyOf(good, cut);
            assertThrows(EOFException.class, () -> GroupCodec.readRaftMessage(decode(part).body()));
        }
        // Every single flipped byte in the body: refused or (if it only changed a value) decoded; never another exception.
        for (int i = 4; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= (byte) 0xA5;
            try {
                GroupCodec.Frame f = decode(bad);
                if (f.type() == GroupCodec.RAFT) {
                    GroupCodec.readRaftMessage(f.body());
                }
            } catch (GroupCodec.BadFrame | EOFException expected) {
                // refused
            } catch (IOException | RuntimeException e) {
                throw new AssertionError("byte " + i + " flipped: " + e, e);
            }
        }
        assertThrows(GroupCodec.BadFrame.class, () -> decode(new byte[] {0x7f, 0, 0, 0, 1}));
        assertThrows(GroupCodec.BadFrame.class, () -> decode(new byte[] {0, 0, 0, 0}));
        assertThrows(GroupCodec.BadFrame.class, () -> GroupCodec.readHello(decode(
                new byte[] {0, 0, 0, 9, 1, 0x47, 0x45, 0x54, 0x20, 0, 1, 0, 0}).body()));
        byte[] trailing = Arrays.copyOf(GroupCodec.hello("b1"), GroupCodec.hello("b1").length + 1);
        java.nio.ByteBuffer.wrap(trailing).putInt(0, trailing.length - 4);
        assertThrows(GroupCodec.BadFrame.class, () -> GroupCodec.readHello(decode(trailing).body()));
    }
}
