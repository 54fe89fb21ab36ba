package io.ringstore.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.config.Settings;
import io.ringstore.daemon.DaemonSettings;
import io.ringstore.replication.ReplicationConfig;
import io.ringstore.replication.tls.TlsMaterial;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented operator steps: {@code ringstore replication keygen} on each board, the .crt
 * copied to the other's peer folder, the replication_* keys set; the daemon's settings accept
 * exactly that and refuse, at start, every way of getting it wrong.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationKeygenTest {
    @TempDir
    static Path dir;
    static Path b1;
    static Path b2;

    private record Run(int code, String out, String err) {}

    private static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console console = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), name -> null);
        int code = Main.run(args, console);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void keygenOnTwoBoards() throws Exception {
        b1 = dir.resolve("b1");
        b2 = dir.resolve("b2");
        for (Path board : List.of(b1, b2)) {
            String name = board.getFileName().toString();
            Run r = cli("replication", "keygen", "--name", name, "--dir", board.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("replication_key_store = " + board.resolve(name + ".p12").toAbsolutePath()), r.out());
            Files.createDirectories(board.resolve("peers"));
        }
        Files.copy(b1.resolve("b1.crt"), b2.resolve("peers/b1.crt"));
        Files.copy(b2.resolve("b2.crt"), b1.resolve("peers/b2.crt"));
    }

    private static String[] b1Flags(String... extra) {
        List<String> flags = new java.util.ArrayList<>(List.of("--replication-peers", "b2=127.0.0.1:7412",
                "--replication-listen", "127.0.0.1:7411", "--replication-key-store", b1.resolve("b1.p12").toString(),
                "--replication-peer-certs", b1.resolve("peers").toString()));
        flags.addAll(List.of(extra));
        return flags.toArray(String[]::new);
    }

    @Test
    void keygenMakesAPrivateKeyStoreAndAPemCertificateNamedForTheBoard() throws Exception {
        Path store = b1.resolve("b1.p12");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store)));
        assertTrue(Files.readString(b1.resolve("b1.crt")).startsWith("-----BEGIN CERTIFICATE-----\n"));
        TlsMaterial m = TlsMaterial.load(store, b1.resolve("peers"), List.of("b2"));
        assertEquals("b1", m.name());
        assertEquals("EC", m.key().getAlgorithm());
        assertTrue(m.cert().getNotAfter().getTime() - System.currentTimeMillis() > 3000L * 86_400_000,
                "valid for about ten years: " + m.cert().getNotAfter());
        try (var files = Files.list(b1)) {
            assertEquals(List.of("b1.crt", "b1.p12", "peers"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary folder left behind");
        }
    }

    @Test
    void keygenNeverOverwritesABoardsKeys() throws Exception {
        byte[] before = Files.readAllBytes(b1.resolve("b1.p12"));
        Run r = cli("replication", "keygen", "--name", "b1", "--dir", b1.toString());
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("already exists"), r.err());
        assertArrayEquals(before, Files.readAllBytes(b1.resolve("b1.p12")));

        r = cli("replication", "keygen", "--name", "Bad Name", "--dir", dir.resolve("x").toString());
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("board name"), r.err());
        assertFalse(Files.exists(dir.resolve("x").resolve("Bad Name.p12")));
        r = cli("replication", "keygen", "--name", "b9", "--dir", dir.resolve("y").toString(), "--owner", "no-such-user-here");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("no such user for --owner: no-such-user-here"), r.err());
        try (var left = Files.list(dir.resolve("y"))) {
            assertEquals(0, left.count(), "nothing left behind");
        }
        assertEquals(ExitCodes.USAGE, cli("replication", "keygen", "--dir", b1.toString()).code());
        assertEquals(ExitCodes.USAGE, cli("replication", "frobnicate").code());
    }

    @Test
    void theDaemonSettingsTakeTheKeysKeygenMade() throws Exception {
        ReplicationConfig r = DaemonSettings.parse(b1Flags()).replication();
        assertTrue(r.enabled());
        assertEquals(InetSocketAddress.createUnresolved("127.0.0.1", 7412), r.peers().get("b2"));
        assertEquals(7411, r.listen().getPort());
        assertFalse(DaemonSettings.parse(new String[0]).replication().enabled(), "off unless configured");
        assertFalse(DaemonSettings.parse(new String[] {"--replication-peers", "", "--replication-listen", " "})
                .replication().enabled(), "empty values, as in the shipped file, are not set");
        assertEquals(null, DaemonSettings.parse(new String[0]).replication().listen(), "nothing listens unless configured");
    }

    @Test
    void badReplicationSettingsStopTheDaemonAtStartWithTheReason() throws Exception {
        assertBad("replication_key_store must be set", "--replication-peers", "b2=127.0.0.1");
        assertBad("a board name", b1Flags("--replication-peers", "B 2=127.0.0.1"));
        assertBad("not a port number", b1Flags("--replication-listen", "127.0.0.1:http"));
        assertBad("peer certificate not found", b1Flags("--replication-peers", "b3=127.0.0.1:7413"));
        assertBad("is this board itself", b1Flags("--replication-peers", "b1=127.0.0.1:7413"));
        // b2's certificate copied under the name b3: the CN does not match the file's name.
        Files.copy(b2.resolve("b2.crt"), b1.resolve("peers/b3.crt"));
        try {
            assertBad("holds the certificate of board 'b2', not of b3", b1Flags("--replication-peers", "b3=127.0.0.1"));
        } finally {
            Files.delete(b1.resolve("peers/b3.crt"));
        }
        Path store = b1.resolve("b1.p12");
        Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            assertBad("chmod 600", b1Flags());
        } finally {
            Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static void assertBad(String expected, String... flags) {
        Settings.BadSetting e = assertThrows(Settings.BadSetting.class, () -> DaemonSettings.parse(flags));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
