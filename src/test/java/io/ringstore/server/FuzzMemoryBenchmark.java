package io.ringstore.server;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 14, item 5: the daemon's resident memory across many fuzzed connections. Starts
 * {@code ringstore serve} in a child JVM with the JVM options of the systemd unit
 * ({@code systemd/ringstore.service}, plus native memory tracking), then opens CONNECTIONS
 * connections (default 10,000; CLIENTS at a time, default 8), each sending one seeded bad frame
 * and closing: random bytes, a length just under the frame limit with a cut-off body (the
 * largest allocation a client can cause), a length over the limit, or an endless varint. Prints
 * the daemon's RSS as it goes, after a full GC, and the JVM's native memory summary, so that
 * heap, thread stacks, direct buffers and malloc can be told apart. Not a test (surefire skips
 * *Benchmark*):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/ringstore.jar:target/test-classes \
 *     io.ringstore.server.FuzzMemoryBenchmark DIR [--connections 10000] [--clients 8] [--java-opts "..."]
 * </pre>
 */
public final class FuzzMemoryBenchmark {
    private static final long SEED = 0x5eed_4a11L;
    private static final int MAX_FRAME = ServerConfig.DEFAULT_MAX_FRAME_BYTES;

    private FuzzMemoryBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int connections = 10_000;
        int clients = 8;
        String javaOpts = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--java-opts" -> javaOpts = args[++i];
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        if (javaOpts == null) {
            javaOpts = unitJavaOpts();
        }
        Files.createDirectories(dir);
        Path socket = dir.resolve("fuzz.sock");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(Arrays.asList(javaOpts.replace("-Djava.io.tmpdir=/var/cache/ringstore", "").trim().split("\\s+")));
        cmd.addAll(List.of("-XX:NativeMemoryTracking=summary", "-cp", System.getProperty("java.class.path"),
                "io.ringstore.cli.Main", "serve", "--data", dir.resolve("data").toString(), "--socket", socket.toString()));
        System.out.println("daemon: " + String.join(" ", cmd.subList(1, cmd.size())).replace(System.getProperty("java.class.path"), "CP"));
        Process daemon = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ConcurrentLinkedQueue<String> output = new ConcurrentLinkedQueue<>();
        Object readyLock = new Object();
        boolean[] ready = new boolean[1];
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.contains("ready:")) {
                        synchronized (readyLock) {
                            ready[0] = true;
                            readyLock.notifyAll();
                        }
                    }
                    if (!line.contains("closing after a bad frame")) {
                        output.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the daemon ended
            }
        });
        synchronized (readyLock) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!ready[0] && System.nanoTime() < deadline) {
                readyLock.wait(1000);
            }
            if (!ready[0]) {
                daemon.destroyForcibly();
                throw new IllegalStateException("daemon not ready: " + output);
            }
        }
        long pid = daemon.pid();
        try {
            System.out.printf(Locale.ROOT, "%8s %10s  %s%n", "conns", "rss_kib", "parts");
            System.out.printf(Locale.ROOT, "%8d %10d  %s%n", 0, rssKib(pid), rssParts(pid));
            jcmd(pid, "VM.native_memory", "baseline");
            AtomicInteger next = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            int total = connections;
            int step = Math.max(1, total / 10);
            Thread[] threads = new Thread[clients];
            for (int c = 0; c < clients; c++) {
                threads[c] = Thread.ofPlatform().start(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < total) {
                        fuzzOne(socket, new Random(SEED + i), i);
                        int d = done.incrementAndGet();
                        if (d % step == 0) {
                            System.out.printf(Locale.ROOT, "%8d %10d  %s%n", d, rssKib(pid), rssParts(pid));
                        }
                    }
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            System.out.printf(Locale.ROOT, "after %d connections: rss %d KiB (%s)%n", total, rssKib(pid), rssParts(pid));
            jcmd(pid, "GC.run");
            System.out.printf(Locale.ROOT, "after a full GC: rss %d KiB (%s)%n", rssKib(pid), rssParts(pid));
            System.out.println(jcmd(pid, "GC.heap_info"));
            System.out.println("largest resident mappings (pmap -x, KiB):");
            System.out.println(new String(new ProcessBuilder("sh", "-c", "pmap -x " + pid + " | sort -k3 -n -r | head -12")
                    .redirectErrorStream(true).start().getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            System.out.println(jcmd(pid, "VM.native_memory", "summary.diff"));
        } finally {
            daemon.toHandle().destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** One connection: a bad frame, our end closed, everything the server says read until it closes. */
    private static void fuzzOne(Path socket, Random random, int i) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            switch (i % 4) {
                case 0 -> { // random bytes
                    byte[] b = new byte[1 + random.nextInt(4096)];
                    random.nextBytes(b);
                    out.write(b);
                }
                case 1 -> { // a length just under the limit, a body cut off
                    varint(out, MAX_FRAME - random.nextInt(1024));
                    byte[] b = new byte[random.nextInt(64 << 10)];
                    random.nextBytes(b);
                    out.write(b);
                }
                case 2 -> varint(out, MAX_FRAME + 1L + (random.nextLong() >>> 30)); // over the limit
                default -> { // a varint that never ends
                    byte[] b = new byte[16 + random.nextInt(4096)];
                    Arrays.fill(b, (byte) 0x80);
                    out.write(b);
                }
            }
            ByteBuffer bytes = ByteBuffer.wrap(out.toByteArray());
            try {
                while (bytes.hasRemaining()) {
                    ch.write(bytes);
                }
                ch.shutdownOutput();
            } catch (IOException e) {
                // the server refused and closed first
            }
            ByteBuffer sink = ByteBuffer.allocate(4096);
            while (ch.read(sink) >= 0) {
                sink.clear();
            }
        } catch (IOException e) {
            // reset by the server: fine
        }
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Anonymous (heap, stacks, malloc) and file-backed (mapped segments, libraries) resident KiB. */
    private static String rssParts(long pid) {
        StringBuilder b = new StringBuilder();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("RssAnon:") || line.startsWith("RssFile:") || line.startsWith("Threads:")) {
                    b.append(line.replaceAll("\\s+", " ").replace(" kB", "")).append(' ');
                }
            }
        } catch (IOException e) {
            return "?";
        }
        return b.toString().trim();
    }

    private static String jcmd(long pid, String... command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        List<String> cmd = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    /** RINGSTORE_JAVA_OPTS of the systemd unit, as the board runs the daemon. */
    private static String unitJavaOpts() throws IOException {
        for (String line : Files.readAllLines(Path.of("systemd/ringstore.service"))) {
            if (line.startsWith("Environment=\"RINGSTORE_JAVA_OPTS=")) {
                return line.substring("Environment=\"RINGSTORE_JAVA_OPTS=".length(), line.length() - 1);
            }
        }
        throw new IllegalStateException("no RINGSTORE_JAVA_OPTS in systemd/ringstore.service");
    }
}
