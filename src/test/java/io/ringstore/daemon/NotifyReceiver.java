package io.ringstore.daemon;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The systemd side of sd_notify for tests: a bound Unix datagram socket (through FFM; Java has
 * no Unix datagram channel) that hands back each message the daemon sends.
 */
final class NotifyReceiver implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle RECV = handle("recv", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final int fd;
    private final Path path;

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
    }

    NotifyReceiver(Path path) throws Throwable {
        this.path = path;
        fd = (int) SOCKET.invokeExact(1 /* AF_UNIX */, 2 /* SOCK_DGRAM */, 0);
        if (fd < 0) {
            throw new IOException("socket failed");
        }
        try (Arena arena = Arena.ofConfined()) {
            byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = arena.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
            if ((int) BIND.invokeExact(fd, addr, 2 + p.length + 1) != 0) {
                throw new IOException("bind failed: " + path);
            }
        }
    }

    Path path() {
        return path;
    }

    /** The next message, or null when none came within {@code timeoutMillis}. */
    String next(int timeoutMillis) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfd = arena.allocate(8);
            pfd.set(ValueLayout.JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1 /* POLLIN */);
            int ready = (int) POLL.invokeExact(pfd, 1L, timeoutMillis);
            if (ready <= 0) {
                return null;
            }
            MemorySegment buf = arena.allocate(4096);
            long n = (long) RECV.invokeExact(fd, buf, 4096L, 0);
            if (n < 0) {
                throw new IOException("recv failed");
            }
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** Waits for a message containing {@code text}; returns it, or null after {@code timeoutMillis}. */
    String await(String text, long timeoutMillis) throws Throwable {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            String m = next((int) Math.max(1, deadline - System.currentTimeMillis()));
            if (m != null && m.contains(text)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }
}
