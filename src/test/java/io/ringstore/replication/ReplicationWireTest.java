package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ReplicationWireTest {
    private static DataInputStream in(ByteArrayOutputStream b) {
        return new DataInputStream(new ByteArrayInputStream(b.toByteArray()));
    }

    @Test
    void everyMessageReadsBackAsWritten() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        EpochHistory h = EpochHistory.initial().with(2, 777);
        ReplicationWire.hello(out, new ReplicationWire.Hello(ReplicationWire.INTENT_FOLLOW, "b2", 65536, 1000, 900, 800, 0x1234abcd, h));
        ReplicationWire.welcome(out, new ReplicationWire.Welcome(2, "b1", AckMode.REPLICA_DURABLE, 800, 1000, h));
        ReplicationWire.data(out, 1000, 800, new byte[] {1, 2, 3});
        ReplicationWire.committed(out, 1003);
        ReplicationWire.progress(out, 1003, 1000);
        ReplicationWire.refuse(out, new ReplicationWire.Refused(ReplicationWire.Refusal.DIVERGED, 2, 500, "cut at 500"));
        ReplicationWire.probeAnswer(out, new ReplicationWire.ProbeAnswer(2, true, "b1"));
        out.flush();
        DataInputStream in = in(b);
        assertEquals(new ReplicationWire.Hello(ReplicationWire.INTENT_FOLLOW, "b2", 65536, 1000, 900, 800, 0x1234abcd, h).toString(),
                ReplicationWire.readHello(ReplicationWire.read(in)).toString());
        ReplicationWire.Welcome w = ReplicationWire.readWelcome(ReplicationWire.read(in));
        assertEquals(AckMode.REPLICA_DURABLE, w.mode());
        assertEquals(h.entries(), w.history().entries());
        ReplicationWire.Data d = ReplicationWire.readData(ReplicationWire.read(in));
        assertEquals(1000, d.position());
        assertArrayEquals(new byte[] {1, 2, 3}, d.bytes());
        assertEquals(1003, ReplicationWire.readCommitted(ReplicationWire.read(in)));
        assertEquals(new ReplicationWire.Progress(1003, 1000), ReplicationWire.readProgress(ReplicationWire.read(in)));
        assertEquals(new ReplicationWire.Refused(ReplicationWire.Refusal.DIVERGED, 2, 500, "cut at 500"),
                ReplicationWire.readRefused(ReplicationWire.read(in)));
        assertEquals(new ReplicationWire.ProbeAnswer(2, true, "b1"), ReplicationWire.readProbeAnswer(ReplicationWire.read(in)));
    }

    @Test
    void badMagicVersionLengthAndTypeAreRefused() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        ReplicationWire.hello(out, new ReplicationWire.Hello(ReplicationWire.INTENT_FOLLOW, "b2", 65536, 64, 64, 64, 0,
                EpochHistory.initial()));
        byte[] good = b.toByteArray();

        byte[] magic = good.clone();
        magic[5] ^= 1;
        assertThrows(IOException.class, () -> ReplicationWire.readHello(ReplicationWire.read(
                new DataInputStream(new ByteArrayInputStream(magic)))));
        byte[] version = good.clone();
        version[10] = 9;
        assertThrows(IOException.class, () -> ReplicationWire.readHello(ReplicationWire.read(
                new DataInputStream(new ByteArrayInputStream(version)))));
        byte[] huge = good.clone();
        huge[0] = 0x7f;
        assertThrows(IOException.class, () -> ReplicationWire.read(new DataInputStream(new ByteArrayInputStream(huge))));
        assertThrows(IOException.class, () -> ReplicationWire.readWelcome(ReplicationWire.read(
                new DataInputStream(new ByteArrayInputStream(good)))));
    }
}
