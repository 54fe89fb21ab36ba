package io.ringstore.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ringstore.cli.ExitCodes;
import io.ringstore.server.PosixAccounts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The units in {@code systemd/}, checked two ways.
 *
 * <p>Always: the unit says what the daemon does (Type=notify, a watchdog, the bad-config exit
 * code in RestartPreventExitStatus=, no MemoryDenyWriteExecute= for the JIT, a heap for a
 * 512 MiB board).
 *
 * <p>With the target's systemd: {@code systemd-analyze verify} prints nothing on stderr (unknown
 * keys only warn and still exit 0) and {@code systemd-analyze security --offline=true
 * --threshold=25} passes. Debian trixie's systemd 257 is the target; bookworm's 252 does not know
 * newer keys, so the host's systemd-analyze is not used. The tool runs in a trixie arm64 root file
 * system under qemu-user-static, through chroot (so as root), with the package installed (verify
 * checks that ExecStart's binary exists). {@code RINGSTORE_TARGET_ROOT} names that root;
 * {@code sh image-build/test-deb.sh --keep-root DIR} makes one, and {@code .ci/run} does so and
 * runs this test with {@code RINGSTORE_REQUIRE_TARGET_ROOT=1}, which turns a skip into a failure.
 */
class SystemdUnitTest {
    private static final Path UNITS = Path.of("systemd");
    private static final double MAX_EXPOSURE = 2.5;
    private static final long TOOL_SECONDS = 300;

    private record Result(int code, String out, String err) {}

    @Test
    void unitMatchesTheDaemon() throws IOException {
        String unit = Files.readString(UNITS.resolve("ringstore.service"));
        assertTrue(unit.contains("\nType=notify\n"), "the daemon sends READY=1");
        assertTrue(unit.lines().anyMatch(l -> l.startsWith("WatchdogSec=")), "the daemon sends WATCHDOG=1");
        assertTrue(unit.contains("\nRestart=on-failure\n"));
        List<String> prevent = unit.lines().filter(l -> l.startsWith("RestartPreventExitStatus="))
                .flatMap(l -> Arrays.stream(l.substring(l.indexOf('=') + 1).trim().split("\\s+"))).toList();
        assertTrue(prevent.contains(Integer.toString(ExitCodes.USAGE)), "a bad config must not restart: " + prevent);
        assertFalse(unit.lines().anyMatch(l -> l.startsWith("MemoryDenyWriteExecute=")),
                "MemoryDenyWriteExecute= breaks the JVM's JIT");
        assertTrue(unit.contains("\nExecStart=/usr/bin/ringstore serve\n"));
        for (String dir : List.of("StateDirectory=ringstore", "RuntimeDirectory=ringstore", "ConfigurationDirectory=ringstore",
                "User=ringstore", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
                "DeviceAllow=char-gpiochip rw")) {
            assertTrue(unit.contains("\n" + dir + "\n"), "missing " + dir);
        }
        String opts = unit.lines().filter(l -> l.startsWith("Environment=\"RINGSTORE_JAVA_OPTS=")).findFirst()
                .orElseThrow(() -> new AssertionError("the unit sets no RINGSTORE_JAVA_OPTS"));
        Matcher heap = Pattern.compile("-Xmx(\\d+)m").matcher(opts);
        assertTrue(heap.find(), "the unit sizes the heap");
        assertTrue(Integer.parseInt(heap.group(1)) <= 160, "heap too big for a 512 MiB board: " + heap.group());
        // java.io.tmpdir must be a folder the service may write (ProtectSystem=strict) and execute
        // from (Pi4J unpacks native libraries there): its cache folder, not /run (noexec on Debian).
        assertTrue(opts.contains("-Djava.io.tmpdir=/var/cache/ringstore")
                && unit.contains("\nCacheDirectory=ringstore\n"), "java.io.tmpdir");
    }

    @Test
    void verifyPrintsNothingWithTheTargetsSystemd() throws Exception {
        Path root = targetRoot();
        Path dir = stageUnits(root);
        try {
            for (Path unit : units()) {
                // --man=no: the image strips manual pages (dpkg path-exclude); the page ships in the .deb.
                Result r = inRoot(root, "/usr/bin/systemd-analyze", "verify", "--man=no",
                        "/" + root.relativize(dir.resolve(unit.getFileName())));
                System.out.println("systemd-analyze verify " + unit.getFileName() + ": exit " + r.code()
                        + (r.err().isEmpty() ? ", stderr empty" : ""));
                assertEquals("", r.err(), "systemd-analyze verify " + unit.getFileName() + " wrote to stderr");
                assertEquals(0, r.code(), "systemd-analyze verify " + unit.getFileName() + ": " + r.out());
            }
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void securityExposureAtMostTwoAndAHalf() throws Exception {
        Path root = targetRoot();
        Path dir = stageUnits(root);
        try {
            Path service = dir.resolve("ringstore.service");
            Result r = inRoot(root, "/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=25",
                    "--no-pager", "/" + root.relativize(service));
            System.out.println(r.out());
            Matcher m = Pattern.compile("Overall exposure level for ringstore\\.service: (\\d+\\.\\d+)").matcher(r.out());
            assertTrue(m.find(), "no exposure level in: " + r.out() + r.err());
            double exposure = Double.parseDouble(m.group(1));
            System.out.println("systemd-analyze security ringstore.service: exposure " + exposure);
            assertEquals("", r.err(), "systemd-analyze security wrote to stderr");
            assertTrue(exposure <= MAX_EXPOSURE, "exposure " + exposure + " above " + MAX_EXPOSURE);
            assertEquals(0, r.code(), "systemd-analyze security --threshold=25 failed");
        } finally {
            deleteTree(dir);
        }
    }

    private static List<Path> units() throws IOException {
        try (Stream<Path> s = Files.list(UNITS)) {
            List<Path> units = s.filter(p -> p.toString().endsWith(".service") || p.toString().endsWith(".socket"))
                    .sorted().toList();
            assertFalse(units.isEmpty(), "no units in " + UNITS.toAbsolutePath());
            return units;
        }
    }

    /** The target root, or a skip (a failure when RINGSTORE_REQUIRE_TARGET_ROOT=1) saying what is missing. */
    private static Path targetRoot() {
        String env = System.getenv("RINGSTORE_TARGET_ROOT");
        String why = null;
        Path root = env == null || env.isBlank() ? null : Path.of(env);
        if (root == null) {
            why = "RINGSTORE_TARGET_ROOT is not set (make one: sudo sh image-build/test-deb.sh --keep-root DIR)";
        } else if (PosixAccounts.effectiveUid() != 0) {
            why = "running the target's systemd-analyze through chroot needs root";
        } else if (!Files.isExecutable(root.resolve("usr/bin/systemd-analyze"))) {
            why = "no usr/bin/systemd-analyze in " + root;
        } else if (!Files.exists(root.resolve("usr/bin/ringstore"))) {
            why = "the package is not installed in " + root + " (verify checks ExecStart's binary)";
        }
        if (why != null) {
            if ("1".equals(System.getenv("RINGSTORE_REQUIRE_TARGET_ROOT"))) {
                fail("the target's systemd is required here: " + why);
            }
            Assumptions.abort("SKIPPED: systemd-analyze of Debian trixie (the target) not available: " + why);
        }
        return root;
    }

    /** Copies the units into the root's /tmp (where the chrooted tool can read them). */
    private static Path stageUnits(Path root) throws IOException {
        Path tmp = root.resolve("tmp");
        Files.createDirectories(tmp);
        Path dir = Files.createTempDirectory(tmp, "ringstore-units");
        for (Path unit : units()) {
            Files.copy(unit, dir.resolve(unit.getFileName()));
        }
        return dir;
    }

    private static Result inRoot(Path root, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("chroot", root.toString()));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("SYSTEMD_COLORS", "0");
        pb.environment().put("SYSTEMD_PAGER", "");
        pb.environment().put("LC_ALL", "C.UTF-8");
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        if (!p.waitFor(TOOL_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not finish in " + TOOL_SECONDS + " s");
        }
        return new Result(p.exitValue(), out.get(), err.get());
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
