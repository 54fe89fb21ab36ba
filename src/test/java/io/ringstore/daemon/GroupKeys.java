package io.ringstore.daemon;

import io.ringstore.replication.tls.BoardKeys;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Keys for the group tests (two data boards a and b and a witness w), made as keygen makes them
 * (keytool), each board trusting the other two: {@code DIR/NAME/NAME.p12} and
 * {@code DIR/NAME/peers/OTHER.crt}. keytool is a JVM start per key (seconds on a loaded
 * two-core machine), so the three are made at once, once per build, in {@code target/test-keys}
 * (made whole in a temporary folder, then renamed into place), and reused while younger than a
 * week (their certificates last 30 days).
 */
final class GroupKeys {
    static final List<String> BOARDS = List.of("a", "b", "w");
    private static final Path DIR = Path.of("target", "test-keys", "group-a-b-w");

    private GroupKeys() {}

    static synchronized Path get() throws Exception {
        Path done = DIR.resolve("done");
        if (Files.exists(done) && Files.getLastModifiedTime(done).toInstant().isAfter(Instant.now().minus(Duration.ofDays(7)))) {
            return DIR;
        }
        Files.createDirectories(DIR.getParent());
        Path tmp = Files.createTempDirectory(DIR.getParent(), "making-");
        ExecutorService pool = Executors.newFixedThreadPool(BOARDS.size());
        try {
            List<Future<?>> made = new ArrayList<>();
            for (String b : BOARDS) {
                made.add(pool.submit((Callable<Object>) () -> BoardKeys.generate(b, tmp.resolve(b), 30, "-1d", null)));
            }
            for (Future<?> f : made) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        for (String me : BOARDS) {
            Path peers = Files.createDirectories(tmp.resolve(me).resolve("peers"));
            for (String other : BOARDS) {
                if (!other.equals(me)) {
                    Files.copy(tmp.resolve(other).resolve(other + ".crt"), peers.resolve(other + ".crt"));
                }
            }
        }
        Files.writeString(tmp.resolve("done"), "made " + Instant.now() + "\n");
        Files.setLastModifiedTime(tmp.resolve("done"), FileTime.from(Instant.now()));
        deleteTree(DIR);
        try {
            Files.move(tmp, DIR, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            deleteTree(tmp); // another test JVM made them at the same time
        }
        return DIR;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
