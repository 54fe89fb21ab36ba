package io.ringstore.replication;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The replication protocol between boards, over one TCP (later TLS) connection that the standby
 * opens to the primary's replication port.
 *
 * <p>Every message is a frame; integers big-endian (network order), strings UTF-8 with an int16
 * byte length:
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |  length L of what follows (int32, 1 .. 8 MiB)                 |  0
 * +---------------+-----------------------------------------------+
 * |  type (int8)  |  payload, L - 1 bytes                      ...|  4
 * +---------------+-----------------------------------------------+
 * </pre>
 *
 * <p>Standby to primary:
 * <ul>
 *   <li>HELLO (1), first and once: magic "RSRP" (int32 0x52535250), version (int16, 1),
 *       intent (int8: 0 follow, 1 probe: only asks the epoch and role), board name (string),
 *       segment size (int64), log end: the position after the last frame it holds (int64),
 *       durable position (int64), check-from (int64: the position up to which it knows the
 *       primary acknowledged what it holds), tail CRC (int32: CRC32C of the frames it holds from
 *       check-from to the log end, seals skipped; the primary compares its own bytes there, so a
 *       batch the primary undid after a failed force, or lost in a power cut, and then wrote
 *       differently, is found), epoch count N (int32), N x {epoch (int64), start (int64)}.
 *   <li>PROGRESS (2): held in memory (int64: everything before it is in the standby's mapping),
 *       durable (int64: everything before it was forced). Sent whenever either moves.
 * </ul>
 * Primary to standby:
 * <ul>
 *   <li>WELCOME (10): the primary's epoch (int64), board name (string), ack mode (int8: the
 *       {@link AckMode} ordinal), committed position (int64), where shipping starts (int64), its
 *       epoch history (count N int32, N x {epoch, start}).
 *   <li>REFUSE (11): reason (int8, {@link Refusal} code), the answering board's epoch (int64),
 *       a position (int64: DIVERGED, where the standby's last epoch ended here, cut there;
 *       RECLAIMED, the oldest position still stored; otherwise -1), message (string). The
 *       connection closes after it.
 *   <li>DATA (12): position (int64), the primary's committed position (int64), byte count
 *       (int32), then that many bytes: whole CRC-framed records exactly as in the primary's
 *       segment files ({@link io.ringstore.log.RecordFrame}), belonging at that global position.
 *       A position that is the first frame slot of the next segment means the primary rolled
 *       (segments are the same size on both, so the standby rolls too).
 *   <li>COMMITTED (13): the primary's committed position (int64): what it has acknowledged.
 *       Also sent every second as a keep-alive.
 *   <li>PROBE_ANSWER (14): epoch (int64), role (int8: 0 primary, 1 standby), board name (string).
 * </ul>
 * Anything else (a bad magic, version, length or type) closes the connection; nothing stored
 * changes.
 */
public final class ReplicationWire {
    public static final int MAGIC = 0x52535250; // "RSRP"
    public static final short VERSION = 1;
    public static final int MAX_FRAME = 8 << 20;
    /** Shipped bytes per DATA message at most (a frame larger than this goes alone). */
    public static final int MAX_DATA = 1 << 20;

    public static final byte HELLO = 1;
    public static final byte PROGRESS = 2;
    public static final byte WELCOME = 10;
    public static final byte REFUSE = 11;
    public static final byte DATA = 12;
    public static final byte COMMITTED = 13;
    public static final byte PROBE_ANSWER = 14;

    public static final byte INTENT_FOLLOW = 0;
    public static final byte INTENT_PROBE = 1;

    private ReplicationWire() {}

    /** Why a primary refused a standby. */
    public enum Refusal {
        /** The segment sizes differ: positions would not line up. */
        SEGMENT_SIZE(1),
        /** Where the standby must start was reclaimed: re-seed it from a copy of this board's data folder. */
        RECLAIMED(2),
        /** The board is not in this board's peers list. */
        NOT_A_PEER(3),
        /** The standby's log goes on past where its last epoch ended here: it must cut there. */
        DIVERGED(4),
        /** This board is not the primary (a standby, or fenced by a newer epoch). */
        NOT_PRIMARY(5),
        /** The hello was malformed (magic, version). */
        BAD_HELLO(6);

        public final int code;

        Refusal(int code) {
            this.code = code;
        }

        static Refusal of(int code) throws IOException {
            for (Refusal r : values()) {
                if (r.code == code) {
                    return r;
                }
            }
            throw new IOException("unknown refusal code " + code);
        }
    }

    public record Hello(byte intent, String board, long segmentSize, long logEnd, long durable, long checkFrom, int tailCrc,
                        EpochHistory history) {}

    public record Welcome(long epoch, String board, AckMode mode, long committed, long start, EpochHistory history) {}

    public record Refused(Refusal reason, long epoch, long position, String message) {}

    public record Data(long position, long committed, byte[] bytes) {}

    public record ProbeAnswer(long epoch, boolean primary, String board) {}

    public record Progress(long held, long durable) {}

    // ------------------------------------------------------------------ writing

    /** A frame being built: write the payload, then {@link #send}. */
    public static final class Out {
        private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        private final DataOutputStream d = new DataOutputStream(buf);

        Out(byte type) {
            buf.write(type);
        }

        Out i8(int v) throws IOException {
            d.writeByte(v);
            return this;
        }

        Out i16(int v) throws IOException {
            d.writeShort(v);
            return this;
        }

        Out i32(int v) throws IOException {
            d.writeInt(v);
            return this;
        }

        Out i64(long v) throws IOException {
            d.writeLong(v);
            return this;
        }

        Out str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > Short.MAX_VALUE) {
                throw new IOException("string too long for the replication protocol: bytes=" + b.length);
            }
            d.writeShort(b.length);
            d.write(b);
            return this;
        }

        Out history(EpochHistory h) throws IOException {
            d.writeInt(h.entries().size());
            for (EpochHistory.Entry e : h.entries()) {
                d.writeLong(e.epoch());
                d.writeLong(e.start());
            }
            return this;
        }

        void send(DataOutputStream out) throws IOException {
            out.writeInt(buf.size());
            buf.writeTo(out);
        }
    }

    public static void hello(DataOutputStream out, Hello h) throws IOException {
        new Out(HELLO).i32(MAGIC).i16(VERSION).i8(h.intent()).str(h.board()).i64(h.segmentSize()).i64(h.logEnd())
                .i64(h.durable()).i64(h.checkFrom()).i32(h.tailCrc()).history(h.history()).send(out);
        out.flush();
    }

    public static void progress(DataOutputStream out, long held, long durable) throws IOException {
        new Out(PROGRESS).i64(held).i64(durable).send(out);
        out.flush();
    }

    public static void welcome(DataOutputStream out, Welcome w) throws IOException {
        new Out(WELCOME).i64(w.epoch()).str(w.board()).i8(w.mode().ordinal()).i64(w.committed()).i64(w.start())
                .history(w.history()).send(out);
        out.flush();
    }

    public static void refuse(DataOutputStream out, Refused r) throws IOException {
        new Out(REFUSE).i8(r.reason().code).i64(r.epoch()).i64(r.position()).str(r.message()).send(out);
        out.flush();
    }

    public static void probeAnswer(DataOutputStream out, ProbeAnswer a) throws IOException {
        new Out(PROBE_ANSWER).i64(a.epoch()).i8(a.primary() ? 0 : 1).str(a.board()).send(out);
        out.flush();
    }

    /** Writes a DATA frame without copying the bytes again; the caller flushes. */
    public static void data(DataOutputStream out, long position, long committed, byte[] bytes) throws IOException {
        out.writeInt(1 + 8 + 8 + 4 + bytes.length);
        out.writeByte(DATA);
        out.writeLong(position);
        out.writeLong(committed);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    public static void committed(DataOutputStream out, long committed) throws IOException {
        new Out(COMMITTED).i64(committed).send(out);
    }

    /** CRC32C of the log's frames from {@code from} to {@code to}, seals skipped (both boards compute it alike). */
    public static int tailCrc(io.ringstore.log.MainLog log, long from, long to) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        long at = from;
        while (at < to) {
            io.ringstore.log.MainLog.RawFrames f = log.copyFrames(at, to, MAX_DATA);
            if (f == null) {
                break;
            }
            crc.update(f.bytes());
            at = f.end();
        }
        return (int) crc.getValue();
    }

    // ------------------------------------------------------------------ reading

    /** One frame read: its type and payload. */
    public record Frame(byte type, DataInputStream payload, int length) {}

    /** Reads one frame; EOFException when the peer closed. */
    public static Frame read(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 1 || length > MAX_FRAME) {
            throw new IOException("replication frame length out of range: " + length);
        }
        byte[] b = new byte[length];
        in.readFully(b);
        return new Frame(b[0], new DataInputStream(new java.io.ByteArrayInputStream(b, 1, length - 1)), length);
    }

    static String str(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    static EpochHistory history(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 1 || n > EpochHistory.MAX_ENTRIES) {
            throw new IOException("epoch count out of range: " + n);
        }
        List<EpochHistory.Entry> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new EpochHistory.Entry(in.readLong(), in.readLong()));
        }
        try {
            return new EpochHistory(list);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    public static Hello readHello(Frame f) throws IOException {
        expect(f, HELLO);
        DataInputStream in = f.payload();
        if (in.readInt() != MAGIC) {
            throw new IOException("not a ringstore replication hello (bad magic)");
        }
        short v = in.readShort();
        if (v != VERSION) {
            throw new IOException("unsupported replication protocol version " + v);
        }
        return new Hello(in.readByte(), str(in), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readInt(),
                history(in));
    }

    public static Welcome readWelcome(Frame f) throws IOException {
        expect(f, WELCOME);
        DataInputStream in = f.payload();
        long epoch = in.readLong();
        String board = str(in);
        int mode = in.readByte();
        if (mode < 0 || mode >= AckMode.values().length) {
            throw new IOException("unknown ack mode " + mode);
        }
        return new Welcome(epoch, board, AckMode.values()[mode], in.readLong(), in.readLong(), history(in));
    }

    public static Refused readRefused(Frame f) throws IOException {
        expect(f, REFUSE);
        DataInputStream in = f.payload();
        return new Refused(Refusal.of(in.readByte()), in.readLong(), in.readLong(), str(in));
    }

    public static Data readData(Frame f) throws IOException {
        expect(f, DATA);
        DataInputStream in = f.payload();
        long position = in.readLong();
        long committed = in.readLong();
        int n = in.readInt();
        if (n < 0 || n != f.length() - 1 - 8 - 8 - 4) {
            throw new IOException("DATA byte count does not match its frame: " + n);
        }
        byte[] bytes = new byte[n];
        in.readFully(bytes);
        return new Data(position, committed, bytes);
    }

    public static long readCommitted(Frame f) throws IOException {
        expect(f, COMMITTED);
        return f.payload().readLong();
    }

    public static Progress readProgress(Frame f) throws IOException {
        expect(f, PROGRESS);
        return new Progress(f.payload().readLong(), f.payload().readLong());
    }

    public static ProbeAnswer readProbeAnswer(Frame f) throws IOException {
        expect(f, PROBE_ANSWER);
        DataInputStream in = f.payload();
        return new ProbeAnswer(in.readLong(), in.readByte() == 0, str(in));
    }

    private static void expect(Frame f, byte type) throws IOException {
        if (f.type() != type) {
            throw new IOException("unexpected replication message type " + f.type() + " (wanted " + type + ")");
        }
    }

    static boolean closed(IOException e) {
        return e instanceof EOFException || e instanceof java.net.SocketException;
    }
}
