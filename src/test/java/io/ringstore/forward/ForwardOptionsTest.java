package io.ringstore.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.config.Settings;
import io.ringstore.daemon.DaemonSettings;
import io.ringstore.log.FileStorageIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The forwarder's parts that need no server: settings, subjects, the checkpoint file, the ack window. */
class ForwardOptionsTest {
    @TempDir
    Path dir;

    private static ForwardOptions parse(String... flags) throws Settings.BadSetting {
        return DaemonSettings.parse(flags).forward();
    }

    @Test
    void offUntilAUrlIsSetThenCheckedOnce() throws Exception {
        assertNull(parse(), "off by default");
        assertNull(parse("--forward-url", " "), "an empty key counts as not set");
        Settings.BadSetting e = assertThrows(Settings.BadSetting.class, () -> parse("--forward-url", "nats://h:4222"));
        assertTrue(e.getMessage().contains("forward_stream must be set"), e.getMessage());
        e = assertThrows(Settings.BadSetting.class, () -> parse("--forward-url", "http://h", "--forward-stream", "RS"));
        assertTrue(e.getMessage().contains("not a NATS URL"), e.getMessage());
        e = assertThrows(Settings.BadSetting.class, () -> parse("--forward-url", "nats://h:4222", "--forward-stream", "RS",
                "--forward-user", "u"));
        assertTrue(e.getMessage().contains("go together"), e.getMessage());
        e = assertThrows(Settings.BadSetting.class, () -> parse("--forward-url", "nats://h:4222", "--forward-stream", "RS",
                "--forward-subject", "ringstore.{board}"));
        assertTrue(e.getMessage().contains("{stream}"), e.getMessage());
        e = assertThrows(Settings.BadSetting.class, () -> parse("--forward-url", "nats://h:4222", "--forward-stream", "RS",
                "--forward-subject", "ringstore.*.{stream}"));
        assertTrue(e.getMessage().contains("wildcards"), e.getMessage());

        ForwardOptions o = parse("--forward-url", "nats://a:4222, nats://u:pw@b:4222", "--forward-stream", "RS",
                "--forward-user", "u", "--forward-password", "secret", "--forward-board", "pi.kitchen");
        assertEquals(2, o.urls().size());
        assertEquals("nats://a:4222,nats://b:4222", o.urlsForDisplay(), "no credentials shown");
        assertTrue(!o.toString().contains("secret"), o.toString());
        assertEquals("ringstore.pi%2Ekitchen.door", o.subjects().subject("door"));
        assertEquals(256, o.batch());
        assertEquals(1024, o.maxInFlight());
        assertTrue(DaemonSettings.parse(new String[0]).forward() == null);
    }

    @Test
    void subjectsAreSafeAndReversibleAndMessageIdsStable() {
        assertEquals("sensor-1", Subjects.safe("sensor-1"));
        assertEquals("$$door", Subjects.safe("$$door"));
        assertEquals("a%2Eb%2A%3E%20%25%C3%A9", Subjects.safe("a.b*> %é"));
        Subjects s = new Subjects("ringstore.{board}.{stream}", "b1");
        assertEquals("ringstore.b1.>", NatsLink.wildcardOf(s));
        assertTrue(NatsLink.matches("ringstore.>", s.subject("x")));
        assertTrue(NatsLink.matches("ringstore.*.x", s.subject("x")));
        assertTrue(!NatsLink.matches("other.>", s.subject("x")));
        assertTrue(!NatsLink.matches("ringstore.b1", s.subject("x")));
        byte[] id = new byte[16];
        id[0] = (byte) 0xab;
        id[15] = 1;
        assertEquals("ab000000-0000-0000-0000-000000000001", Subjects.messageId(id, "b1", 77));
        assertEquals("rs-b1-77", Subjects.messageId(new byte[16], "b1", 77), "no event id: from the position");
        assertEquals("caf%C3%A9", NatsLink.headerSafe("café"));
    }

    @Test
    void theCheckpointIsWrittenWholeAndADamagedOneIsRefused() throws IOException {
        FileStorageIo io = new FileStorageIo();
        assertEquals(new ForwardCheckpoint.State(0, 0, 0), ForwardCheckpoint.read(io, dir), "none: from the start");
        ForwardCheckpoint.write(io, dir, new ForwardCheckpoint.State(123_456, 42, 7));
        Files.writeString(dir.resolve(ForwardCheckpoint.FILE_NAME + ".tmp"), "left by a crash");
        assertEquals(new ForwardCheckpoint.State(123_456, 42, 7), ForwardCheckpoint.read(io, dir));
        assertTrue(!Files.exists(dir.resolve(ForwardCheckpoint.FILE_NAME + ".tmp")), "a crash's temp file is removed");
        byte[] b = Files.readAllBytes(dir.resolve(ForwardCheckpoint.FILE_NAME));
        b[9] ^= 1;
        Files.write(dir.resolve(ForwardCheckpoint.FILE_NAME), b);
        IOException e = assertThrows(IOException.class, () -> ForwardCheckpoint.read(io, dir));
        assertTrue(e.getMessage().contains("damaged forwarder checkpoint"), e.getMessage());
    }

    @Test
    void theCheckpointMovesOnlyOverAnUnbrokenRunOfAcknowledgements() {
        AckWindow w = new AckWindow();
        CompletableFuture<Boolean> a = new CompletableFuture<>();
        CompletableFuture<Boolean> b = new CompletableFuture<>();
        CompletableFuture<Boolean> c = new CompletableFuture<>();
        w.add(100, 10, a, 0);
        w.add(200, 10, b, 0);
        w.add(250, 0, null, 0); // hidden events: nothing to wait for
        w.add(300, 10, c, 0);
        b.complete(false);
        c.complete(true);
        assertEquals(-1, w.drain().position(), "the oldest is not acknowledged: nothing moves");
        a.complete(false);
        AckWindow.Drained d = w.drain();
        assertEquals(300, d.position());
        assertEquals(3, d.events());
        assertEquals(1, d.duplicates());
        assertTrue(w.isEmpty());
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        w.add(400, 1, f, 0);
        f.completeExceptionally(new IOException("stream gone"));
        assertThrows(java.util.concurrent.CompletionException.class, w::drain);
    }
}
