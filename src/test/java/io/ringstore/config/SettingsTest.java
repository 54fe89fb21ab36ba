package io.ringstore.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
    @TempDir
    Path dir;

    private static final Set<String> KNOWN = Set.of("data", "segment_size", "durability", "repair", "led_write");

    @Test
    void flagsOverrideTheFileAndSizesParse() throws Exception {
        Path f = dir.resolve("c.conf");
        Files.writeString(f, "# comment\n\ndata = /srv/a\nsegment_size = 32m\n");
        Settings s = Settings.load(f, true, List.of("--segment-size", "128k", "--repair"), KNOWN, Set.of("repair"));
        assertEquals(Path.of("/srv/a"), s.path("data", null));
        assertEquals(128 << 10, s.bytes("segment_size", 0, 0, Long.MAX_VALUE));
        assertTrue(s.bool("repair", false));
    }

    @Test
    void errorsNameTheKeyAndWhereItWasSet() throws Exception {
        Path f = dir.resolve("c.conf");
        Files.writeString(f, "data = /srv/a\nsegment_size = huge\n");
        Settings s = Settings.load(f, true, List.of(), KNOWN, Set.of());
        Settings.BadSetting e = assertThrows(Settings.BadSetting.class, () -> s.bytes("segment_size", 0, 0, 1L << 30));
        assertTrue(e.getMessage().contains(f + ":2") && e.getMessage().contains("segment_size"), e.getMessage());

        Files.writeString(f, "colour = red\n");
        e = assertThrows(Settings.BadSetting.class, () -> Settings.load(f, true, List.of(), KNOWN, Set.of()));
        assertTrue(e.getMessage().contains(f + ":1") && e.getMessage().contains("unknown setting 'colour'"), e.getMessage());

        e = assertThrows(Settings.BadSetting.class, () -> Settings.load(null, false, List.of("--durability"), KNOWN, Set.of()));
        assertTrue(e.getMessage().contains("missing value for --durability"), e.getMessage());

        e = assertThrows(Settings.BadSetting.class, () -> Settings.load(dir.resolve("missing.conf"), true, List.of(), KNOWN, Set.of()));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void theShippedConfigFileParsesAndNamesOnlyKnownKeys() throws Exception {
        // Every commented default in the shipped file, uncommented, must be accepted as is.
        String shipped = new String(getClass().getResourceAsStream("/ringstore.conf").readAllBytes());
        StringBuilder active = new StringBuilder();
        for (String line : shipped.split("\n")) {
            if (line.startsWith("#") && line.contains(" = ") && !line.startsWith("# ")) {
                String kv = line.substring(1);
                if (!kv.strip().endsWith("=")) {
                    active.append(kv).append('\n');
                }
            }
        }
        Path f = dir.resolve("shipped.conf");
        Files.writeString(f, active.toString());
        io.ringstore.daemon.DaemonSettings d = io.ringstore.daemon.DaemonSettings.parse(new String[] {"--config", f.toString()});
        assertEquals(Path.of("/var/lib/ringstore"), d.store().dataDir());
        assertEquals(64L << 20, d.store().segmentSize());
        assertTrue(active.toString().contains("led_fault = 22"), active.toString());
    }

    @Test
    void ackModeSettingsAreCheckedOnce() throws Exception {
        io.ringstore.daemon.DaemonSettings d = io.ringstore.daemon.DaemonSettings.parse(new String[] {});
        assertEquals(io.ringstore.replication.AckMode.LOCAL, d.store().ackMode(), "local unless configured");
        d = io.ringstore.daemon.DaemonSettings.parse(new String[] {
                "--ack-mode", "replica-durable", "--replica-ack-timeout-ms", "2000"});
        assertEquals(io.ringstore.replication.AckMode.REPLICA_DURABLE, d.store().ackMode());
        assertEquals(2000, d.store().writer().ack().timeoutMillis());
        Settings.BadSetting e = org.junit.jupiter.api.Assertions.assertThrows(Settings.BadSetting.class,
                () -> io.ringstore.daemon.DaemonSettings.parse(new String[] {"--ack-mode", "replica"}));
        assertTrue(e.getMessage().contains("ack_mode") && e.getMessage().contains("replica-memory"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(Settings.BadSetting.class,
                () -> io.ringstore.daemon.DaemonSettings.parse(new String[] {"--replica-ack-timeout-ms", "0"}));
        assertTrue(e.getMessage().contains("replica_ack_timeout_ms"), e.getMessage());
    }

    @Test
    void splitterNiceIsCheckedOnce() throws Exception {
        assertEquals(10, io.ringstore.daemon.DaemonSettings.parse(new String[0]).store().splitter().nice(),
                "background priority out of the box");
        assertEquals(0, io.ringstore.daemon.DaemonSettings.parse(new String[] {"--splitter-nice", "0"})
                .store().splitter().nice());
        for (String bad : List.of("20", "-1", "low")) {
            Settings.BadSetting e = assertThrows(Settings.BadSetting.class,
                    () -> io.ringstore.daemon.DaemonSettings.parse(new String[] {"--splitter-nice", bad}));
            assertTrue(e.getMessage().contains("splitter_nice"), e.getMessage());
        }
    }

    @Test
    void retentionSettingsAreCheckedOnce() throws Exception {
        io.ringstore.daemon.DaemonSettings d = io.ringstore.daemon.DaemonSettings.parse(new String[] {
                "--stream-limits", "sensor-: max_count=100, max_age=30d; debug-: max_age=1d",
                "--disk-budget", "1g", "--disk-low-water", "80%", "--retention-interval-seconds", "60"});
        var r = d.store().retention();
        assertEquals(1L << 30, r.budgetBytes());
        assertEquals(80, r.lowWaterPercent());
        assertEquals(60_000, r.compactIntervalMillis());
        assertEquals(2, r.prefixes().size());
        assertEquals(30L * 86_400, r.prefixes().stream().filter(p -> p.prefix().equals("sensor-")).findFirst()
                .orElseThrow().limits().maxAgeSeconds());
        assertEquals(90, io.ringstore.daemon.DaemonSettings.parse(new String[] {"--disk-budget", "90%"})
                .store().retention().budgetPercent());
        // On out of the box (an appliance must not fill its card), off only when asked.
        assertEquals(90, io.ringstore.daemon.DaemonSettings.parse(new String[0]).store().retention().budgetPercent());
        assertFalse(io.ringstore.daemon.DaemonSettings.parse(new String[] {"--disk-budget", "off"})
                .store().retention().hasBudget());
        for (String[] bad : List.of(new String[] {"--stream-limits", "sensor-: max_count=0"},
                new String[] {"--disk-budget", "150%"}, new String[] {"--disk-budget", "lots"},
                new String[] {"--disk-low-water", "0%"})) {
            Settings.BadSetting e = assertThrows(Settings.BadSetting.class, () -> io.ringstore.daemon.DaemonSettings.parse(bad));
            assertTrue(e.getMessage().contains(bad[0].substring(2).replace('-', '_')), e.getMessage());
        }
    }

    @Test
    void theJsonSocketSitsBesideTheSocketUnlessConfigured() throws Exception {
        var d = io.ringstore.daemon.DaemonSettings.parse(new String[] {"--socket", "/tmp/x/rs.sock"});
        assertEquals(java.nio.file.Path.of("/tmp/x/json.sock"), d.server().jsonSocket());
        assertEquals(java.nio.file.Path.of("/tmp/y.sock"),
                io.ringstore.daemon.DaemonSettings.parse(new String[] {"--json-socket", "/tmp/y.sock"}).server().jsonSocket());
        assertEquals(null, io.ringstore.daemon.DaemonSettings.parse(new String[] {"--json-socket", "off"}).server().jsonSocket());
        assertEquals(java.nio.file.Path.of("/run/ringstore/json.sock"),
                io.ringstore.daemon.DaemonSettings.parse(new String[0]).server().jsonSocket());
    }
}
