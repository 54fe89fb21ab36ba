package io.ringstore.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few Linux calls the JDK does not expose, through FFM: {@code fallocate} (so a segment's
 * blocks exist before it is mapped: a sparse file under a mapping turns a full disk into SIGBUS)
 * and {@code madvise(MADV_RANDOM)} (without it an msync of a few KiB wrote back multi-MiB folios
 * on this kernel, 20-50x the payload).
 *
 * <p>Constants used here have the same values on x86_64 and arm64 (the generic Linux ABI).
 */
public final class Posix {
    private static final int O_RDWR = 0x2;
    private static final int O_CREAT = 0x40;
    private static final int O_CLOEXEC = 0x80000;
    public static final int EINTR = 4;
    public static final int ENOSPC = 28;
    public static final int EDQUOT = 122;
    public static final int EOPNOTSUPP = 95;
    private static final int MADV_RANDOM = 1;
    private static final int MADV_DONTNEED = 4;
    private static final int MADV_WILLNEED = 3;
    private static final int POSIX_FADV_DONTNEED = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FALLOCATE = downcall("fallocate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle MADVISE = downcall("madvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));

    private static final MethodHandle FADVISE = downcall("posix_fadvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private static final int PRIO_PROCESS = 0;
    public static final int ENOSYS = 38;

    private static final MethodHandle SYNCFS = downcall("syncfs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int O_RDONLY = 0;
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SUN_PATH_LENGTH = 108;
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDTO = downcall("sendto",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    /**
     * Sends one datagram to a Unix socket path (Java has no Unix datagram channel). A path
     * starting with '@' is in the abstract namespace, as systemd's NOTIFY_SOCKET may be.
     */
    public static void sendDatagram(String socketPath, byte[] message) throws IOException {
        byte[] path = socketPath.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        boolean abstractName = path.length > 0 && path[0] == '@';
        if (path.length >= SUN_PATH_LENGTH) {
            throw new IOException("socket path too long: " + socketPath);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            // struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }
            MemorySegment addr = arena.allocate(2 + SUN_PATH_LENGTH);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            if (abstractName) {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            }
            int addrLength = 2 + path.length + (abstractName ? 0 : 1);
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, message);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("socket failed: errno=" + errno(state));
            }
            try {
                long sent = (long) SENDTO.invokeExact(state, fd, buf, (long) message.length, 0, addr, addrLength);
                if (sent < 0) {
                    throw new IOException("sendto failed: path=" + socketPath + " errno=" + errno(state));
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(state, fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private Posix() {}

    /**
     * Flushes every dirty page and metadata change of the filesystem holding {@code path}: one
     * journal commit instead of one fsync per file, which is what makes writing thousands of
     * small stream files per window affordable on an SD card.
     */
    public static void syncfs(Path path) throws IOException {
        withReadOnlyFd(path, (state, fd) -> {
            int rc = (int) SYNCFS.invokeExact(state, fd);
            if (rc != 0) {
                throw new IOException("syncfs failed: path=" + path + " errno=" + errno(state));
            }
        });
    }

    /** A native call on an open file descriptor; {@code state} captures errno. */
    private interface FdCall {
        void run(MemorySegment state, int fd) throws Throwable;
    }

    /** Opens {@code path} read-only, runs {@code call} on it, closes it. */
    private static void withReadOnlyFd(Path path, FdCall call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("open failed: path=" + path + " errno=" + errno(state));
            }
            try {
                call.run(state, fd);
            } finally {
                int ignored = (int) CLOSE.invokeExact(state, fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        return LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO);
    }

    /** Outcome of {@link #fallocate}: done, or the filesystem cannot do it (caller zero-fills). */
    public enum Allocation { ALLOCATED, UNSUPPORTED }

    /**
     * Reserves real blocks for {@code [0, length)} of the file, creating it if needed.
     *
     * @throws NoSpaceException when the filesystem has no room (ENOSPC or EDQUOT)
     */
    public static Allocation fallocate(Path file, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment cPath = arena.allocateFrom(file.toString());
            int fd = (int) OPEN.invokeExact(state, cPath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) {
                throw new IOException("open failed: file=" + file + " errno=" + errno(state));
            }
            try {
                int rc;
                int err;
                do {
                    rc = (int) FALLOCATE.invokeExact(state, fd, 0, 0L, length);
                    err = rc == 0 ? 0 : errno(state);
                } while (rc != 0 && err == EINTR);
                if (rc == 0) {
                    return Allocation.ALLOCATED;
                }
                if (err == EOPNOTSUPP) {
                    return Allocation.UNSUPPORTED;
                }
                if (err == ENOSPC || err == EDQUOT) {
                    throw new NoSpaceException("no space to allocate file=" + file + " bytes=" + length);
                }
                throw new IOException("fallocate failed: file=" + file + " bytes=" + length + " errno=" + err);
            } finally {
                int ignored = (int) CLOSE.invokeExact(state, fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /**
     * Advises the kernel that a mapping is accessed randomly, so it does not read ahead or write
     * back large folios around a small dirty range. Best effort: a failure only costs wear.
     *
     * @return true when the advice was taken
     */
    public static boolean adviseRandom(MemorySegment mapping) {
        return madvise(mapping, MADV_RANDOM);
    }

    /**
     * Asks the kernel to read a shared file mapping's pages into the page cache now, in the
     * background (readahead), so the first write to each page later finds it there instead of
     * waiting for its read. Best effort: a failure only costs that wait.
     *
     * @return true when the advice was taken
     */
    public static boolean adviseWillNeed(MemorySegment mapping) {
        return madvise(mapping, MADV_WILLNEED);
    }

    /**
     * Drops a file's clean pages from the page cache (posix_fadvise DONTNEED over the whole
     * file); pages some process has mapped, and dirty ones, stay. The benchmark uses it to start
     * a window with the log as cold as a board's small page cache leaves it.
     */
    public static void dropFileCache(Path file) throws IOException {
        withReadOnlyFd(file, (state, fd) -> {
            int rc = (int) FADVISE.invokeExact(state, fd, 0L, 0L, POSIX_FADV_DONTNEED);
            if (rc != 0) { // posix_fadvise returns the error number itself
                throw new IOException("posix_fadvise failed: file=" + file + " error=" + rc);
            }
        });
    }

    /**
     * Drops a range of a shared file mapping from this process's page tables. The data stays in
     * the file and the page cache (dirty pages stay dirty); it only stops counting as this
     * process's resident memory until touched again. Best effort.
     */
    public static boolean adviseDontNeed(MemorySegment mapping) {
        return madvise(mapping, MADV_DONTNEED);
    }

    /**
     * Raises the calling thread's nice value by {@code by} above what it is, to at most 19: Linux
     * keeps one per thread ({@code setpriority} with the thread's id), and Java's thread
     * priorities do not reach it. Raising it needs no privilege; being relative, a daemon run at
     * nice 5 gets a thread at 15, never back at 10.
     *
     * @return 0, or the errno of the refusal ({@link #ENOSYS} when libc lacks {@code gettid})
     * @throws IOException when the thread's present nice value cannot be read
     */
    public static int raiseThreadNice(int by) throws IOException {
        if (ThreadCalls.GETTID == null) {
            return ENOSYS;
        }
        int nice = Math.min(19, ProcStat.read(Path.of("/proc/thread-self/stat")).nice() + by);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int tid = (int) ThreadCalls.GETTID.invokeExact(state);
            int rc = (int) ThreadCalls.SETPRIORITY.invokeExact(state, PRIO_PROCESS, tid, nice);
            return rc == 0 ? 0 : errno(state);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /** Looked up on first use: {@code gettid} is in glibc only since 2.30. */
    private static final class ThreadCalls {
        static final MethodHandle GETTID = optionalDowncall("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        static final MethodHandle SETPRIORITY = downcall("setpriority",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static MethodHandle optionalDowncall(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO))
                .orElse(null);
    }

    private static boolean madvise(MemorySegment mapping, int advice) {
        if (mapping.byteSize() == 0) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) MADVISE.invokeExact(state, mapping, mapping.byteSize(), advice);
            return rc == 0;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
