package io.ringstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Access control with real uids: the daemon ({@code serve}, in a child JVM as root) lets a
 * throwaway system user read but not append, refuses a user it does not list, and the socket's
 * mode keeps out a user outside its group. Clients run as those users through
 * {@code setpriv}. Needs root (to create the user); skipped otherwise.
 */
class AccessControlTest {
    private static final long WAIT_SECONDS = 30;

    private record Result(int code, String out, String err) {}

    @Test
    void readOnlyUsersMayReadButNotAppendAndUnlistedUsersAreRefused() throws Exception {
        assumeTrue(PosixAccounts.effectiveUid() == 0,
                "SKIPPED: access control with two real uids needs root to create a throwaway system user");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "SKIPPED: needs useradd and setpriv (util-linux)");
        String user = "rs-acl-" + Long.toHexString(System.nanoTime() & 0xffffffL);
        run(List.of("useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", user));
        Path base = Files.createTempDirectory(Path.of("/tmp"), "ringstore-acl");
        Process serve = null;
        try {
            PosixAccounts.User u = PosixAccounts.user(user).orElseThrow();
            assertTrue(u.uid() > 0);
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            String classpath = readableClasspath(base);
            Path socket = base.resolve("rs.sock");
            List<String> serveCommand = new ArrayList<>(java(classpath));
            serveCommand.addAll(List.of("serve", "--data", base.resolve("data").toString(), "--socket", socket.toString(),
                    "--socket-group", user, "--read-only-users", user, "--segment-size", "1m"));
            serve = new ProcessBuilder(serveCommand).redirectErrorStream(true).start();
            List<String> log = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> ready = new CompletableFuture<>();
            Process s = serve;
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        log.add(line);
                        if (line.contains("ready:")) {
                            ready.complete(null);
                        }
                    }
                    ready.completeExceptionally(new AssertionError("serve ended before it was ready: " + log));
                } catch (IOException e) {
                    ready.completeExceptionally(e);
                }
            });
            ready.get(WAIT_SECONDS, TimeUnit.SECONDS);

            PosixFileAttributes attrs = Files.readAttributes(socket, PosixFileAttributes.class);
            assertEquals("rw-rw----", PosixFilePermissions.toString(attrs.permissions()));
            assertEquals(user, attrs.group().getName(), "the socket's group is the configured one");

            // Root (this process) may do everything.
            try (RingStoreClient root = RingStoreClient.connect(socket)) {
                root.append("door", ExpectedVersion.ANY, List.of(EventData.of("opened", "{\"by\":\"root\"}".getBytes(StandardCharsets.UTF_8))))
                        .get(WAIT_SECONDS, TimeUnit.SECONDS);
            }

            // The read-only user: status and reads work, appends are denied.
            Result status = as(u.uid(), u.gid(), classpath, "status", "--socket", socket.toString());
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("\"access\":\"read-only\""), status.out());
            Result read = as(u.uid(), u.gid(), classpath, "read", "--socket", socket.toString(), "door");
            assertEquals(0, read.code(), read.err());
            assertTrue(read.out().contains("\"by\":\"root\""), read.out());
            Result append = as(u.uid(), u.gid(), classpath, "append", "--socket", socket.toString(), "door", "opened", "1");
            assertEquals(10, append.code(), "ACCESS_DENIED exit code; " + append.out() + append.err());
            assertTrue(append.out().contains("\"error\":\"ACCESS_DENIED\""), append.out());

            // A user in the socket's group but not listed: connects, every request denied.
            Result nobody = as(65534, u.gid(), classpath, "status", "--socket", socket.toString());
            assertEquals(10, nobody.code(), nobody.out() + nobody.err());
            // A user outside the socket's group cannot even open it (mode 0660).
            Result outsider = as(65534, 65534, classpath, "status", "--socket", socket.toString());
            assertEquals(6, outsider.code(), outsider.out() + outsider.err());

            // The JSON-lines socket beside it: the same mode, group and per-connection access.
            Path json = base.resolve("json.sock");
            PosixFileAttributes jsonAttrs = Files.readAttributes(json, PosixFileAttributes.class);
            assertEquals("rw-rw----", PosixFilePermissions.toString(jsonAttrs.permissions()));
            assertEquals(user, jsonAttrs.group().getName());
            if (Files.isExecutable(Path.of("/usr/bin/socat"))) {
                Result jsonAppend = shell(u.uid(), u.gid(), "echo '{\"op\":\"append\",\"stream\":\"door\",\"type\":\"opened\"}'"
                        + " | socat - UNIX-CONNECT:" + json);
                assertTrue(jsonAppend.out().contains("\"error\":\"ACCESS_DENIED\""), jsonAppend.out() + jsonAppend.err());
                Result jsonRead = shell(u.uid(), u.gid(), "echo '{\"op\":\"read\",\"stream\":\"door\"}' | socat - UNIX-CONNECT:" + json);
                assertTrue(jsonRead.out().contains("\"by\":\"root\""), jsonRead.out() + jsonRead.err());
                Result jsonOutsider = shell(65534, 65534, "echo '{\"op\":\"ping\"}' | socat - UNIX-CONNECT:" + json);
                assertTrue(jsonOutsider.code() != 0 && !jsonOutsider.out().contains("pong"), "mode 0660 keeps an outsider out: "
                        + jsonOutsider.out() + jsonOutsider.err());
            }

            // The daemon logged each denial with the uid.
            String all = String.join("\n", log);
            assertTrue(all.contains("access denied: uid=" + u.uid()), all);
            assertTrue(all.contains("access denied: uid=65534"), all);

            try (RingStoreClient root = RingStoreClient.connect(socket)) {
                assertEquals(1, root.readStream("door", 0, 10, io.ringstore.read.Direction.FORWARD)
                        .get(WAIT_SECONDS, TimeUnit.SECONDS).events().size(), "the denied append left nothing");
            }
        } finally {
            if (serve != null) {
                serve.destroy();
                if (!serve.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    serve.destroyForcibly();
                }
            }
            run(List.of("userdel", user));
            if (io.ringstore.server.PosixAccounts.groupId(user).isPresent()) {
                run(List.of("groupdel", user));
            }
            deleteTree(base);
        }
    }

    /**
     * The java command's classpath as copies any user can read: neither the Maven repository
     * under /root nor the checkout need be (a clone in a 0700 folder is not).
     */
    private static String readableClasspath(Path base) throws IOException {
        Path lib = Files.createDirectories(base.resolve("lib"));
        List<String> entries = new ArrayList<>();
        // Everything the daemon runs with (Pi4J, SLF4J and their natives included), so the
        // child classpath can never fall behind the pom.
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.isEmpty() || !Files.exists(p) || p.toString().contains("junit") || p.toString().contains("jqwik")) {
                continue;
            }
            // Numbered: two entries may share a file name (target/classes and target/test-classes do not, jars may).
            Path copy = lib.resolve((n++) + "-" + p.getFileName());
            copyReadable(p, copy);
            entries.add(copy.toString());
        }
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
        return String.join(":", entries);
    }

    /** Copies a jar, or a classes folder with everything under it, readable by every user. */
    private static void copyReadable(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }

    private static List<String> java(String classpath) {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1",
                "-Xmx64m", "-cp", classpath, "io.ringstore.cli.Main");
    }

    /** Runs the CLI as another user. */
    private static Result as(int uid, int gid, String classpath, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        cmd.addAll(java(classpath));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", "/tmp");
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "client finished");
        return new Result(p.exitValue(), out, err.get(WAIT_SECONDS, TimeUnit.SECONDS));
    }

    /** Runs a shell command line as another user. */
    private static Result shell(int uid, int gid, String script) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--", "sh", "-c", script)
                .start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "command finished");
        return new Result(p.exitValue(), out, err.get(WAIT_SECONDS, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
