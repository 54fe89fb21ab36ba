package io.ringstore.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * {@code sync(2)}: writes back every dirty page and commits the filesystem journals, so that a
 * device counter read afterwards includes the writes a measured run caused (ext4 commits its
 * journal up to 5 s late), and the next window does not inherit them.
 */
final class FileSystemSync {
    private static final MethodHandle SYNC = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sync")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: sync")),
            FunctionDescriptor.ofVoid());

    private FileSystemSync() {}

    static void syncAll() {
        try {
            SYNC.invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sync failed", t);
        }
    }
}
