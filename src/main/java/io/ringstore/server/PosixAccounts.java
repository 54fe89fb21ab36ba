package io.ringstore.server;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.OptionalInt;

/**
 * User and group lookups the JDK does not expose with numbers, through FFM: the JDK's
 * {@code SO_PEERCRED} gives principals by name, but access rules and log lines need the uid, and
 * group rules need the user's supplementary groups.
 *
 * <p>Reads {@code struct passwd} and {@code struct group} of glibc on LP64 Linux (x86_64 and
 * arm64 alike):
 * <pre>
 * struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
 *                 0              8                16            20
 * struct group  { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
 *                 0              8                16            24
 * </pre>
 * {@code getpwnam}/{@code getgrnam} return static storage, so every call holds one lock.
 */
public final class PosixAccounts {
    private static final long PW_UID_OFFSET = 16;
    private static final long PW_GID_OFFSET = 20;
    private static final long GR_GID_OFFSET = 16;
    private static final int MAX_GROUPS = 1024;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETPWNAM = downcall("getpwnam",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle GETGRNAM = downcall("getgrnam",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle GETGROUPLIST = downcall("getgrouplist",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle GETEGID = downcall("getegid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final Object LOCK = new Object();

    private PosixAccounts() {}

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** A user's numeric ids as the user database has them. */
    public record User(String name, int uid, int gid) {}

    /** Looks a user up by name; empty when the database has no such user. */
    public static java.util.Optional<User> user(String name) {
        synchronized (LOCK) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pw = (MemorySegment) GETPWNAM.invokeExact(arena.allocateFrom(name));
                if (pw.equals(MemorySegment.NULL)) {
                    return java.util.Optional.empty();
                }
                pw = pw.reinterpret(PW_GID_OFFSET + Integer.BYTES);
                return java.util.Optional.of(new User(name, pw.get(ValueLayout.JAVA_INT, PW_UID_OFFSET),
                        pw.get(ValueLayout.JAVA_INT, PW_GID_OFFSET)));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** Looks a group's gid up by name. */
    public static OptionalInt groupId(String name) {
        synchronized (LOCK) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment gr = (MemorySegment) GETGRNAM.invokeExact(arena.allocateFrom(name));
                if (gr.equals(MemorySegment.NULL)) {
                    return OptionalInt.empty();
                }
                return OptionalInt.of(gr.reinterpret(GR_GID_OFFSET + Integer.BYTES).get(ValueLayout.JAVA_INT, GR_GID_OFFSET));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** Every group the user belongs to in the group database, with {@code primaryGid} included. */
    public static int[] groupsOf(String userName, int primaryGid) {
        synchronized (LOCK) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment groups = arena.allocate(ValueLayout.JAVA_INT, MAX_GROUPS);
                MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
                count.set(ValueLayout.JAVA_INT, 0, MAX_GROUPS);
                int rc = (int) GETGROUPLIST.invokeExact(arena.allocateFrom(userName), primaryGid, groups, count);
                int n = Math.min(count.get(ValueLayout.JAVA_INT, 0), MAX_GROUPS);
                if (rc < 0 && n <= 0) {
                    return new int[] {primaryGid};
                }
                return groups.asSlice(0, (long) n * Integer.BYTES).toArray(ValueLayout.JAVA_INT);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    public static int effectiveUid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int effectiveGid() {
        try {
            return (int) GETEGID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A user name, or a number given where a name was expected, as a uid. */
    public static OptionalInt uidOf(String nameOrNumber) {
        java.util.Optional<User> u = user(nameOrNumber);
        if (u.isPresent()) {
            return OptionalInt.of(u.get().uid());
        }
        return number(nameOrNumber);
    }

    /** A group name or number as a gid. */
    public static OptionalInt gidOf(String nameOrNumber) {
        OptionalInt g = groupId(nameOrNumber);
        return g.isPresent() ? g : number(nameOrNumber);
    }

    private static OptionalInt number(String s) {
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit) && s.length() <= 10) {
            long v = Long.parseLong(s);
            if (v <= 0xffff_ffffL) {
                return OptionalInt.of((int) v);
            }
        }
        return OptionalInt.empty();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof java.lang.Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
