package io.ringstore.consensus;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.groupop.UpdateRaftGroupMembersOp;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.message.AppendEntriesFailureResponse;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.AppendEntriesSuccessResponse;
import io.microraft.model.message.InstallSnapshotRequest;
import io.microraft.model.message.InstallSnapshotResponse;
import io.microraft.model.message.PreVoteRequest;
import io.microraft.model.message.PreVoteResponse;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.message.TriggerLeaderElectionRequest;
import io.microraft.model.message.VoteRequest;
import io.microraft.model.message.VoteResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The voters' wire format, and the encoding of Raft log entries, snapshot chunks and members that
 * {@link FileRaftStore} also uses. Every MicroRaft message type and every operation in the log has
 * an explicit encoding here (no Java serialization: a voter must never deserialize classes named
 * by a peer).
 *
 * <p>Integers big-endian ({@link DataOutput}); bool = int8 0/1; str = int16 byte length then
 * UTF-8 (at most {@link #MAX_STRING} bytes); list&lt;X&gt; = int16 count then the items.
 *
 * <p>One TCP (or TLS) connection per direction and pair of voters: the connecting side only
 * writes, the accepting side only reads. Every message is a frame:
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |  length L of what follows (int32, 1 .. MAX_FRAME)             |  0
 * +---------------+-----------------------------------------------+
 * |  type (int8)  |  body, L - 1 bytes                         ...|  4
 * +---------------+-----------------------------------------------+
 * </pre>
 * Frame types:
 * <ul>
 *   <li>HELLO (1), first and once: magic int32 0x52535647 ("RSVG"), version int16 (1), the
 *       sender's board name (str). Over TLS the name must be the one its certificate proved.
 *   <li>PING (2): empty; sent when a link has had nothing to send for a heartbeat, so the
 *       receiver knows the sender is reachable.
 *   <li>RAFT (3): a Raft message: kind int8, sender (str), term int32, then by kind:
 *     <ul>
 *       <li>1 AppendEntriesRequest: previous log term int32, previous log index int64, commit
 *           index int64, query sequence int64, flow-control sequence int64, entries list&lt;entry&gt;
 *       <li>2 AppendEntriesSuccessResponse: last log index int64, query seq int64, flow seq int64
 *       <li>3 AppendEntriesFailureResponse: expected next index int64, query seq int64, flow seq int64
 *       <li>4 InstallSnapshotRequest: sender is leader bool, snapshot term int32, snapshot index
 *           int64, total chunk count int32, has chunk bool, [chunk], snapshotted members
 *           list&lt;str&gt;, members view, query seq int64, flow seq int64
 *       <li>5 InstallSnapshotResponse: snapshot index int64, requested chunk index int32, query
 *           seq int64, flow seq int64
 *       <li>6 PreVoteRequest, 8 TriggerLeaderElectionRequest: last log term int32, last log index int64
 *       <li>7 PreVoteResponse, 10 VoteResponse: granted bool
 *       <li>9 VoteRequest: last log term int32, last log index int64, sticky bool
 *     </ul>
 *   <li>PROPOSE (4): request id int64, operation (a {@link GroupChange}); a follower forwards a
 *       proposal to the leader.
 *   <li>BEAT (5): request id int64, beat; forwarded to the leader.
 *   <li>REPLY (6): request id int64, outcome int8 (0 done: then a group state; 1 not the leader;
 *       2 failed), leader hint (str, "" unknown), message (str).
 * </ul>
 * Shared shapes:
 * <ul>
 *   <li>entry: index int64, term int32, operation
 *   <li>chunk: index int64, term int32, chunk index int32, chunk count int32, members view, operation
 *   <li>members view: log index int64, members list&lt;str&gt;, voting members list&lt;str&gt;
 *   <li>operation: tag int8, then: 1 NewPrimary {expected epoch int64, new epoch int64, board
 *       str, in-sync list&lt;str&gt;}; 2 SetInSync {epoch int64, primary str, in-sync
 *       list&lt;str&gt;}; 3 new-term marker {}; 4 UpdateRaftGroupMembersOp {members
 *       list&lt;str&gt;, voting list&lt;str&gt;, endpoint str, mode str}; 5 group state (a
 *       snapshot chunk) {epoch int64, primary str, in-sync list&lt;str&gt;, index int64}
 *   <li>group state: as tag 5's body; beat: board str, role str, epoch int64, held int64,
 *       durable int64, promotable bool, why not str, boot id int64
 * </ul>
 * Anything else (bad magic, version, length, type, kind, tag, a string too long, a body shorter
 * or longer than its fields) is a {@link BadFrame}: the reader drops the connection and says so
 * in the journal; the link reconnects.
 */
final class GroupCodec {
    static final int MAGIC = 0x52535647; // "RSVG"
    static final short VERSION = 1;
    /** Far above any message of this small state; bounds what a bad length can make a reader allocate. */
    static final int MAX_FRAME = 1 << 20;
    static final int MAX_STRING = 4096;
    static final int MAX_LIST = 4096;

    static final byte HELLO = 1;
    static final byte PING = 2;
    static final byte RAFT = 3;
    static final byte PROPOSE = 4;
    static final byte BEAT = 5;
    static final byte REPLY = 6;

    static final byte OUTCOME_DONE = 0;
    static final byte OUTCOME_NOT_LEADER = 1;
    static final byte OUTCOME_FAILED = 2;

    private static final byte APPEND_REQUEST = 1;
    private static final byte APPEND_SUCCESS = 2;
    private static final byte APPEND_FAILURE = 3;
    private static final byte SNAPSHOT_REQUEST = 4;
    private static final byte SNAPSHOT_RESPONSE = 5;
    private static final byte PRE_VOTE_REQUEST = 6;
    private static final byte PRE_VOTE_RESPONSE = 7;
    private static final byte TRIGGER_ELECTION = 8;
    private static final byte VOTE_REQUEST = 9;
    private static final byte VOTE_RESPONSE = 10;

    private static final byte OP_NEW_PRIMARY = 1;
    private static final byte OP_SET_IN_SYNC = 2;
    private static final byte OP_NEW_TERM = 3;
    private static final byte OP_UPDATE_MEMBERS = 4;
    private static final byte OP_GROUP_STATE = 5;

    /** The one group these voters form; not on the wire (a connection carries only this group). */
    static final String GROUP_ID = "ringstore";

    static final RaftModelFactory MODEL = new DefaultRaftModelFactory();

    /** A frame that does not follow this format. */
    static final class BadFrame extends IOException {
        BadFrame(String message) {
            super(message);
        }
    }

    /** A decoded frame: its type and the body's reader (positioned after the type). */
    record Frame(byte type, DataInputStream body, int length) {}

    /** A forwarded request's answer. */
    record Reply(long requestId, byte outcome, GroupState state, String leaderHint, String message) {}

    private GroupCodec() {}

    // ---------------------------------------------------------------- frames

    /** Builds one frame: the body writer fills in everything after the type. */
    static byte[] frame(byte type, BodyWriter body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(0); // length, filled in below
            out.writeByte(type);
            body.write(out);
            out.flush();
            byte[] b = bytes.toByteArray();
            int length = b.length - 4;
            if (length > MAX_FRAME) {
                throw new IllegalArgumentException("frame of " + length + " bytes exceeds " + MAX_FRAME);
            }
            java.nio.ByteBuffer.wrap(b).putInt(0, length); // big-endian, as DataOutput writes
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
    }

    @FunctionalInterface
    interface BodyWriter {
        void write(DataOutput out) throws IOException;
    }

    /**
     * Reads one frame from a stream.
     *
     * @throws EOFException at a clean end of stream before a frame starts, or in the middle of one
     * @throws BadFrame     when the length is out of range
     */
    static Frame readFrame(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 1 || length > MAX_FRAME) {
            throw new BadFrame("frame length " + length + " out of range 1.." + MAX_FRAME);
        }
        byte[] b = new byte[length];
        in.readFully(b);
        DataInputStream body = new DataInputStream(new ByteArrayInputStream(b, 1, length - 1));
        return new Frame(b[0], body, length);
    }

    /** Checks that a body was read to its end: extra bytes mean the two sides disagree on the format. */
    static void expectEnd(DataInputStream body) throws IOException {
        if (body.available() != 0) {
            throw new BadFrame(body.available() + " bytes left after the fields");
        }
    }

    static byte[] hello(String board) {
        return frame(HELLO, out -> {
            out.writeInt(MAGIC);
            out.writeShort(VERSION);
            writeString(out, board);
        });
    }

    /** Reads a HELLO body; returns the sender's name. */
    static String readHello(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new BadFrame("bad magic 0x" + Integer.toHexString(magic) + " (not a ringstore voter)");
        }
        short version = in.readShort();
        if (version != VERSION) {
            throw new BadFrame("unsupported version " + version + " (this voter speaks " + VERSION + ")");
        }
        String board = readString(in);
        expectEnd(in);
        return board;
    }

    static final byte[] PING_FRAME = frame(PING, out -> {});

    static byte[] raft(RaftMessage message) {
        return frame(RAFT, out -> writeRaftMessage(out, message));
    }

    static byte[] propose(long requestId, GroupChange change) {
        return frame(PROPOSE, out -> {
            out.writeLong(requestId);
            writeOperation(out, change);
        });
    }

    static byte[] beat(long requestId, BoardBeat beat) {
        return frame(BEAT, out -> {
            out.writeLong(requestId);
            writeBeat(out, beat);
        });
    }

    static byte[] reply(Reply r) {
        return frame(REPLY, out -> {
            out.writeLong(r.requestId());
            out.writeByte(r.outcome());
            if (r.outcome() == OUTCOME_DONE) {
                writeState(out, r.state());
            }
            writeString(out, r.leaderHint());
            writeString(out, truncate(r.message()));
        });
    }

    static Reply readReply(DataInputStream in) throws IOException {
        long id = in.readLong();
        byte outcome = in.readByte();
        GroupState state = null;
        if (outcome == OUTCOME_DONE) {
            state = readState(in);
        } else if (outcome != OUTCOME_NOT_LEADER && outcome != OUTCOME_FAILED) {
            throw new BadFrame("unknown reply outcome " + outcome);
        }
        String hint = readString(in);
        String message = readString(in);
        expectEnd(in);
        return new Reply(id, outcome, state, hint, message);
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        // characters, not bytes: a UTF-8 character is at most 3 bytes in modified terms, 4 here
        return s.length() > MAX_STRING / 4 ? s.substring(0, MAX_STRING / 4) : s;
    }

    // ---------------------------------------------------------------- Raft messages

    static void writeRaftMessage(DataOutput out, RaftMessage m) throws IOException {
        byte kind = switch (m) {
            case AppendEntriesRequest x -> APPEND_REQUEST;
            case AppendEntriesSuccessResponse x -> APPEND_SUCCESS;
            case AppendEntriesFailureResponse x -> APPEND_FAILURE;
            case InstallSnapshotRequest x -> SNAPSHOT_REQUEST;
            case InstallSnapshotResponse x -> SNAPSHOT_RESPONSE;
            case PreVoteRequest x -> PRE_VOTE_REQUEST;
            case PreVoteResponse x -> PRE_VOTE_RESPONSE;
            case TriggerLeaderElectionRequest x -> TRIGGER_ELECTION;
            case VoteRequest x -> VOTE_REQUEST;
            case VoteResponse x -> VOTE_RESPONSE;
            default -> throw new IllegalArgumentException("no encoding for " + m.getClass().getName());
        };
        out.writeByte(kind);
        writeEndpoint(out, m.getSender());
        out.writeInt(m.getTerm());
        switch (m) {
            case AppendEntriesRequest r -> {
                out.writeInt(r.getPreviousLogTerm());
                out.writeLong(r.getPreviousLogIndex());
                out.writeLong(r.getCommitIndex());
                out.writeLong(r.getQuerySequenceNumber());
                out.writeLong(r.getFlowControlSequenceNumber());
                writeCount(out, r.getLogEntries().size());
                for (LogEntry e : r.getLogEntries()) {
                    writeEntry(out, e);
                }
            }
            case AppendEntriesSuccessResponse r -> {
                out.writeLong(r.getLastLogIndex());
                out.writeLong(r.getQuerySequenceNumber());
                out.writeLong(r.getFlowControlSequenceNumber());
            }
            case AppendEntriesFailureResponse r -> {
                out.writeLong(r.getExpectedNextIndex());
                out.writeLong(r.getQuerySequenceNumber());
                out.writeLong(r.getFlowControlSequenceNumber());
            }
            case InstallSnapshotRequest r -> {
                out.writeBoolean(r.isSenderLeader());
                out.writeInt(r.getSnapshotTerm());
                out.writeLong(r.getSnapshotIndex());
                out.writeInt(r.getTotalSnapshotChunkCount());
                out.writeBoolean(r.getSnapshotChunk() != null);
                if (r.getSnapshotChunk() != null) {
                    writeChunk(out, r.getSnapshotChunk());
                }
                writeEndpoints(out, r.getSnapshottedMembers());
                writeMembersView(out, r.getGroupMembersView());
                out.writeLong(r.getQuerySequenceNumber());
                out.writeLong(r.getFlowControlSequenceNumber());
            }
            case InstallSnapshotResponse r -> {
                out.writeLong(r.getSnapshotIndex());
                out.writeInt(r.getRequestedSnapshotChunkIndex());
                out.writeLong(r.getQuerySequenceNumber());
                out.writeLong(r.getFlowControlSequenceNumber());
            }
            case PreVoteRequest r -> {
                out.writeInt(r.getLastLogTerm());
                out.writeLong(r.getLastLogIndex());
            }
            case PreVoteResponse r -> out.writeBoolean(r.isGranted());
            case TriggerLeaderElectionRequest r -> {
                out.writeInt(r.getLastLogTerm());
                out.writeLong(r.getLastLogIndex());
            }
            case VoteRequest r -> {
                out.writeInt(r.getLastLogTerm());
                out.writeLong(r.getLastLogIndex());
                out.writeBoolean(r.isSticky());
            }
            case VoteResponse r -> out.writeBoolean(r.isGranted());
            default -> throw new IllegalArgumentException("no encoding for " + m.getClass().getName());
        }
    }

    static RaftMessage readRaftMessage(DataInputStream in) throws IOException {
        byte kind = in.readByte();
        RaftEndpoint sender = readEndpoint(in);
        int term = readNonNegativeInt(in, "term");
        RaftMessage m = switch (kind) {
            case APPEND_REQUEST -> {
                int prevTerm = in.readInt();
                long prevIndex = in.readLong();
                long commitIndex = in.readLong();
                long querySeq = in.readLong();
                long flowSeq = in.readLong();
                int n = readCount(in);
                List<LogEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(readEntry(in));
                }
                yield MODEL.createAppendEntriesRequestBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                        .setPreviousLogTerm(prevTerm).setPreviousLogIndex(prevIndex).setCommitIndex(commitIndex)
                        .setLogEntries(entries).setQuerySequenceNumber(querySeq).setFlowControlSequenceNumber(flowSeq)
                        .build();
            }
            case APPEND_SUCCESS -> MODEL.createAppendEntriesSuccessResponseBuilder().setGroupId(GROUP_ID).setSender(sender)
                    .setTerm(term).setLastLogIndex(in.readLong()).setQuerySequenceNumber(in.readLong())
                    .setFlowControlSequenceNumber(in.readLong()).build();
            case APPEND_FAILURE -> MODEL.createAppendEntriesFailureResponseBuilder().setGroupId(GROUP_ID).setSender(sender)
                    .setTerm(term).setExpectedNextIndex(in.readLong()).setQuerySequenceNumber(in.readLong())
                    .setFlowControlSequenceNumber(in.readLong()).build();
            case SNAPSHOT_REQUEST -> {
                boolean senderLeader = in.readBoolean();
                int snapshotTerm = in.readInt();
                long snapshotIndex = in.readLong();
                int total = in.readInt();
                SnapshotChunk chunk = in.readBoolean() ? readChunk(in) : null;
                List<RaftEndpoint> snapshotted = readEndpoints(in);
                RaftGroupMembersView view = readMembersView(in);
                long querySeq = in.readLong();
                long flowSeq = in.readLong();
                yield MODEL.createInstallSnapshotRequestBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                        .setSenderLeader(senderLeader).setSnapshotTerm(snapshotTerm).setSnapshotIndex(snapshotIndex)
                        .setTotalSnapshotChunkCount(total).setSnapshotChunk(chunk).setSnapshottedMembers(snapshotted)
                        .setGroupMembersView(view).setQuerySequenceNumber(querySeq).setFlowControlSequenceNumber(flowSeq)
                        .build();
            }
            case SNAPSHOT_RESPONSE -> MODEL.createInstallSnapshotResponseBuilder().setGroupId(GROUP_ID).setSender(sender)
                    .setTerm(term).setSnapshotIndex(in.readLong()).setRequestedSnapshotChunkIndex(in.readInt())
                    .setQuerySequenceNumber(in.readLong()).setFlowControlSequenceNumber(in.readLong()).build();
            case PRE_VOTE_REQUEST -> MODEL.createPreVoteRequestBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                    .setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong()).build();
            case PRE_VOTE_RESPONSE -> MODEL.createPreVoteResponseBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                    .setGranted(in.readBoolean()).build();
            case TRIGGER_ELECTION -> MODEL.createTriggerLeaderElectionRequestBuilder().setGroupId(GROUP_ID).setSender(sender)
                    .setTerm(term).setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong()).build();
            case VOTE_REQUEST -> MODEL.createVoteRequestBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                    .setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong()).setSticky(in.readBoolean()).build();
            case VOTE_RESPONSE -> MODEL.createVoteResponseBuilder().setGroupId(GROUP_ID).setSender(sender).setTerm(term)
                    .setGranted(in.readBoolean()).build();
            default -> throw new BadFrame("unknown Raft message kind " + kind);
        };
        expectEnd(in);
        return m;
    }

    // ---------------------------------------------------------------- log shapes

    static void writeEntry(DataOutput out, LogEntry e) throws IOException {
        out.writeLong(e.getIndex());
        out.writeInt(e.getTerm());
        writeOperation(out, e.getOperation());
    }

    static LogEntry readEntry(DataInput in) throws IOException {
        long index = readNonNegativeLong(in, "entry index");
        int term = readNonNegativeInt(in, "entry term");
        Object op = readOperation(in);
        return MODEL.createLogEntryBuilder().setIndex(index).setTerm(term).setOperation(op).build();
    }

    static void writeChunk(DataOutput out, SnapshotChunk c) throws IOException {
        out.writeLong(c.getIndex());
        out.writeInt(c.getTerm());
        out.writeInt(c.getSnapshotChunkIndex());
        out.writeInt(c.getSnapshotChunkCount());
        writeMembersView(out, c.getGroupMembersView());
        writeOperation(out, c.getOperation());
    }

    static SnapshotChunk readChunk(DataInput in) throws IOException {
        long index = readNonNegativeLong(in, "snapshot index");
        int term = readNonNegativeInt(in, "snapshot term");
        int chunkIndex = readNonNegativeInt(in, "chunk index");
        int chunkCount = in.readInt();
        if (chunkCount < 1 || chunkIndex >= chunkCount) {
            throw new BadFrame("chunk " + chunkIndex + " of " + chunkCount);
        }
        RaftGroupMembersView view = readMembersView(in);
        Object op = readOperation(in);
        return MODEL.createSnapshotChunkBuilder().setIndex(index).setTerm(term).setSnapshotChunkIndex(chunkIndex)
                .setSnapshotChunkCount(chunkCount).setGroupMembersView(view).setOperation(op).build();
    }

    static void writeMembersView(DataOutput out, RaftGroupMembersView v) throws IOException {
        out.writeLong(v.getLogIndex());
        writeEndpoints(out, v.getMembers());
        writeEndpoints(out, v.getVotingMembers());
    }

    static RaftGroupMembersView readMembersView(DataInput in) throws IOException {
        long logIndex = readNonNegativeLong(in, "members log index");
        List<RaftEndpoint> members = readEndpoints(in);
        List<RaftEndpoint> voting = readEndpoints(in);
        return MODEL.createRaftGroupMembersViewBuilder().setLogIndex(logIndex).setMembers(members)
                .setVotingMembers(voting).build();
    }

    static void writeOperation(DataOutput out, Object op) throws IOException {
        switch (op) {
            case GroupChange.NewPrimary p -> {
                out.writeByte(OP_NEW_PRIMARY);
                out.writeLong(p.expectedEpoch());
                out.writeLong(p.newEpoch());
                writeString(out, p.board());
                writeStrings(out, p.inSync());
            }
            case GroupChange.SetInSync s -> {
                out.writeByte(OP_SET_IN_SYNC);
                out.writeLong(s.epoch());
                writeString(out, s.primary());
                writeStrings(out, s.inSync());
            }
            case GroupOps.NewTerm t -> out.writeByte(OP_NEW_TERM);
            case UpdateRaftGroupMembersOp u -> {
                out.writeByte(OP_UPDATE_MEMBERS);
                writeEndpoints(out, u.getMembers());
                writeEndpoints(out, u.getVotingMembers());
                writeEndpoint(out, u.getEndpoint());
                writeString(out, u.getMode().name());
            }
            case GroupState s -> {
                out.writeByte(OP_GROUP_STATE);
                writeState(out, s);
            }
            default -> throw new IllegalArgumentException("no encoding for operation " + op.getClass().getName());
        }
    }

    static Object readOperation(DataInput in) throws IOException {
        byte tag = in.readByte();
        try {
            return switch (tag) {
                case OP_NEW_PRIMARY -> new GroupChange.NewPrimary(in.readLong(), in.readLong(), readString(in), readStrings(in));
                case OP_SET_IN_SYNC -> new GroupChange.SetInSync(in.readLong(), readString(in), readStrings(in));
                case OP_NEW_TERM -> GroupOps.NewTerm.INSTANCE;
                case OP_UPDATE_MEMBERS -> {
                    List<RaftEndpoint> members = readEndpoints(in);
                    List<RaftEndpoint> voting = readEndpoints(in);
                    RaftEndpoint endpoint = readEndpoint(in);
                    MembershipChangeMode mode = MembershipChangeMode.valueOf(readString(in));
                    yield MODEL.createUpdateRaftGroupMembersOpBuilder().setMembers(members).setVotingMembers(voting)
                            .setEndpoint(endpoint).setMode(mode).build();
                }
                case OP_GROUP_STATE -> readState(in);
                default -> throw new BadFrame("unknown operation tag " + tag);
            };
        } catch (IllegalArgumentException e) {
            // a record's own checks (empty board name, unknown mode): the bytes are not a valid operation
            throw new BadFrame("invalid operation (tag " + tag + "): " + e.getMessage());
        }
    }

    static void writeState(DataOutput out, GroupState s) throws IOException {
        out.writeLong(s.epoch());
        writeString(out, s.primary());
        writeStrings(out, s.inSync());
        out.writeLong(s.index());
    }

    static GroupState readState(DataInput in) throws IOException {
        try {
            return new GroupState(in.readLong(), readString(in), readStrings(in), in.readLong());
        } catch (IllegalArgumentException e) {
            throw new BadFrame("invalid group state: " + e.getMessage());
        }
    }

    static void writeBeat(DataOutput out, BoardBeat b) throws IOException {
        writeString(out, b.board());
        writeString(out, b.role());
        out.writeLong(b.epoch());
        out.writeLong(b.held());
        out.writeLong(b.durable());
        out.writeBoolean(b.promotable());
        writeString(out, truncate(b.notPromotableBecause()));
        out.writeLong(b.bootId());
    }

    static BoardBeat readBeat(DataInput in) throws IOException {
        try {
            return new BoardBeat(readString(in), readString(in), in.readLong(), in.readLong(), in.readLong(),
                    in.readBoolean(), readString(in), in.readLong());
        } catch (IllegalArgumentException e) {
            throw new BadFrame("invalid beat: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- primitives

    static void writeEndpoint(DataOutput out, RaftEndpoint e) throws IOException {
        writeString(out, (String) e.getId());
    }

    static RaftEndpoint readEndpoint(DataInput in) throws IOException {
        String name = readString(in);
        if (name.isEmpty()) {
            throw new BadFrame("empty voter name");
        }
        return new VoterEndpoint(name);
    }

    static void writeEndpoints(DataOutput out, Collection<RaftEndpoint> es) throws IOException {
        writeCount(out, es.size());
        for (RaftEndpoint e : es) {
            writeEndpoint(out, e);
        }
    }

    static List<RaftEndpoint> readEndpoints(DataInput in) throws IOException {
        int n = readCount(in);
        List<RaftEndpoint> es = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            es.add(readEndpoint(in));
        }
        return es;
    }

    static void writeStrings(DataOutput out, List<String> ss) throws IOException {
        writeCount(out, ss.size());
        for (String s : ss) {
            writeString(out, s);
        }
    }

    static List<String> readStrings(DataInput in) throws IOException {
        int n = readCount(in);
        List<String> ss = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ss.add(readString(in));
        }
        return List.copyOf(ss);
    }

    static void writeString(DataOutput out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_STRING) {
            throw new IllegalArgumentException("string of " + b.length + " bytes exceeds " + MAX_STRING);
        }
        out.writeShort(b.length);
        out.write(b);
    }

    static String readString(DataInput in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > MAX_STRING) {
            throw new BadFrame("string of " + n + " bytes exceeds " + MAX_STRING);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void writeCount(DataOutput out, int n) throws IOException {
        if (n > MAX_LIST) {
            throw new IllegalArgumentException("list of " + n + " exceeds " + MAX_LIST);
        }
        out.writeShort(n);
    }

    private static int readCount(DataInput in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > MAX_LIST) {
            throw new BadFrame("list of " + n + " exceeds " + MAX_LIST);
        }
        return n;
    }

    private static int readNonNegativeInt(DataInput in, String what) throws IOException {
        int v = in.readInt();
        if (v < 0) {
            throw new BadFrame(what + " " + v + " is negative");
        }
        return v;
    }

    private static long readNonNegativeLong(DataInput in, String what) throws IOException {
        long v = in.readLong();
        if (v < 0) {
            throw new BadFrame(what + " " + v + " is negative");
        }
        return v;
    }
}
