package io.ringstore.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringstore.client.RingStoreClient;
import io.ringstore.writer.EventData;
import io.ringstore.writer.ExpectedVersion;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 item 4: at every stop the LED thread asked the closed store for its status and died
 * with a stack trace. A daemon in this JVM, stopped as SIGTERM stops it: the threads that watch
 * the store have ended when it returns, and none of its threads died of an exception.
 */
class DaemonStopTest {
    private static final Set<String> WATCHERS = Set.of("ringstore-leds", "ringstore-status");

    @TempDir
    Path dir;

    @Test
    void theStatusAndLedThreadsEndBeforeTheStoreClosesAndNothingDies() throws Exception {
        DaemonSettings settings = DaemonSettings.parse(new String[] {"--data", dir.resolve("data").toString(),
                "--socket", dir.resolve("s.sock").toString(), "--status-interval-seconds", "1", "--leds", "off"});
        ConcurrentLinkedQueue<String> died = new ConcurrentLinkedQueue<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> died.add(t.getName() + ": " + e));
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        try {
            Daemon daemon = new Daemon(settings, false);
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(daemon::run,
                    r -> Thread.ofPlatform().name("test-daemon").start(r));
            assertTrue(daemon.awaitReady(30, TimeUnit.SECONDS), "daemon not ready");
            Set<Thread> watchers = new HashSet<>(Thread.getAllStackTraces().keySet());
            watchers.removeAll(before);
            watchers.removeIf(t -> !WATCHERS.contains(t.getName()));
            assertEquals(WATCHERS.size(), watchers.size(), "expected the LED and status threads: " + watchers);
            try (RingStoreClient client = RingStoreClient.connect(dir.resolve("s.sock"))) {
                client.append("door", ExpectedVersion.NO_STREAM, List.of(EventData.of("opened", new byte[] {1})))
                        .get(10, TimeUnit.SECONDS);
            }

            daemon.requestStop();
            assertEquals(0, exit.get(60, TimeUnit.SECONDS), "clean stop exits 0");
            for (Thread t : watchers) {
                assertTrue(!t.isAlive(), t.getName() + " still running after the daemon stopped");
            }
            assertTrue(died.isEmpty(), "threads died: " + died);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }
}
