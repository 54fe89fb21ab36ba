package io.ringstore.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code ringstore serve} as a real child process on a fresh data folder: the daemon's own
 * command, the JVM options the shipped systemd unit gives it, its default settings (an empty
 * config file, so a board's /etc/ringstore/ringstore.conf does not change what is measured), LEDs
 * off. Started, it is ready when it logs {@code ready:} (the line it logs once clients can be
 * served); stopped with SIGTERM, it must exit 0. Its output goes to {@code daemon.log} in the
 * folder; the last lines are quoted when it fails.
 */
final class DaemonChild implements AutoCloseable {
    /** Heap and GC as systemd/ringstore.service runs the daemon on a 512 MiB board. */
    static final List<String> UNIT_JVM_OPTIONS = List.of("-Xms16m", "-Xmx128m", "-XX:MaxMetaspaceSize=64m",
            "-XX:ReservedCodeCacheSize=48m", "-XX:MaxDirectMemorySize=64m", "-XX:+UseSerialGC",
            "-XX:-UsePerfData");
    private static final long READY_TIMEOUT_SECONDS = 60;
    private static final long STOP_TIMEOUT_SECONDS = 60;
    private static final int TAIL_LINES = 20;

    private final Process process;
    private final Path socket;
    private final Deque<String> tail = new ArrayDeque<>();
    private final CountDownLatch ready = new CountDownLatch(1);

    private DaemonChild(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /**
     * Starts a daemon on {@code folder}/data serving {@code folder}/d.sock and waits until it is
     * ready; {@code javaOptions} go after the unit's.
     */
    static DaemonChild start(Path folder, boolean pi, List<String> javaOptions) throws IOException, InterruptedException {
        return start(folder, pi, javaOptions, List.of());
    }

    /**
     * As {@link #start(Path, boolean, List)}, with more {@code serve} flags after the bench's own
     * (a board's replication settings, for the two-board rows).
     */
    static DaemonChild start(Path folder, boolean pi, List<String> javaOptions, List<String> serveFlags)
            throws IOException, InterruptedException {
        Files.createDirectories(folder);
        Path config = Files.writeString(folder.resolve("empty.conf"), "# bench: the daemon's defaults\n");
        Path socket = folder.resolve("d.sock");
        List<String> args = new ArrayList<>(List.of("serve", "--data", folder.resolve("data").toString(), "--socket",
                socket.toString(), "--config", config.toString(), "--leds", "off"));
        args.addAll(serveFlags);
        List<String> jvm = new ArrayList<>(UNIT_JVM_OPTIONS);
        jvm.addAll(javaOptions);
        List<String> cmd = JavaChild.command(pi, jvm, "io.ringstore.cli.Main", args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // A bench stopped by Ctrl-C or SIGTERM takes its daemon with it.
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "bench-daemon-reaper"));
        DaemonChild d = new DaemonChild(p, socket);
        Path logFile = folder.resolve("daemon.log");
        Thread.ofPlatform().name("bench-daemon-output").daemon().start(() -> d.copyOutput(logFile));
        if (!d.ready.await(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS) || !p.isAlive()) {
            p.destroyForcibly();
            throw new IOException("the daemon did not become ready: command=" + String.join(" ", cmd)
                    + " alive=" + p.isAlive() + " output:\n" + d.tail());
        }
        return d;
    }

    private void copyOutput(Path logFile) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true)) {
            String line;
            while ((line = r.readLine()) != null) {
                w.println(line);
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                if (line.contains("ready: ")) {
                    ready.countDown();
                }
            }
        } catch (IOException e) {
            // The daemon's output ended (it exited, or the folder went away); its exit code tells the rest.
        } finally {
            ready.countDown(); // never leave start() waiting on a dead child
        }
    }

    Path socket() {
        return socket;
    }

    long pid() {
        return process.pid();
    }

    /** The daemon's last output lines. */
    String tail() {
        synchronized (tail) {
            return String.join("\n", new ArrayList<>(tail));
        }
    }

    /** CPU seconds the daemon has used so far, NaN when unknown. */
    double cpuSeconds() {
        return process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    /** The daemon's peak RSS so far (VmHWM), -1 when unknown. */
    long peakRssBytes() {
        return ProcessMemory.peakRssBytes(process.pid());
    }

    /** SIGKILL, and waits until the process is gone (a board losing power, for the promote timing). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM, then waits for the clean stop; an exit code other than 0 is an error. */
    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("the daemon did not stop within " + STOP_TIMEOUT_SECONDS + " s: pid="
                        + process.pid() + " output:\n" + tail());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return;
        }
        if (process.exitValue() != 0) {
            throw new IOException("the daemon exited with code " + process.exitValue() + ": output:\n" + tail());
        }
    }
}
