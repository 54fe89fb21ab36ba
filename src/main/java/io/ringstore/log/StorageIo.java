package io.ringstore.log;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * The storage seam: every operation by which the store changes or syncs what is on disk (the
 * main log's mappings, stream files, checkpoints, rewrites, folders). One production
 * implementation ({@link FileStorageIo}), which adds nothing to the plain calls; tests wrap it to
 * fail the Nth call, once or for good, and to model a power cut (what was not made durable is
 * lost, in any order). Reads need not pass through it.
 *
 * <p>What each call makes durable, the contract the store's code relies on:
 * <ul>
 *   <li>{@link #force(MemorySegment, long, long)}: that range of a mapping and the file's size;</li>
 *   <li>{@code force} on a channel from {@link #open}: the file's bytes and size, never its name;</li>
 *   <li>{@link #forceDirectory}: the folder's entries (creations, renames, deletions in it);</li>
 *   <li>{@link #syncfs}: everything on that filesystem, names included.</li>
 * </ul>
 * Everything else (writes, truncations, creations, renames, deletions) may be lost or kept,
 * each on its own, by a power cut until one of those calls covers it.
 */
public interface StorageIo {

    /** Creates {@code file} with real blocks for {@code size} bytes (never sparse). */
    void allocate(Path file, long size) throws IOException;

    /** Maps {@code file} read-write and shared, {@code size} bytes, into {@code arena}. */
    MemorySegment map(Path file, long size, Arena arena) throws IOException;

    /** Copies {@code source} into {@code mapping} at {@code offset}. */
    void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException;

    /**
     * Copies {@code length} bytes of {@code source} from {@code from} into {@code mapping} at
     * {@code offset}: the same write as {@link #write(MemorySegment, long, MemorySegment)} (which
     * it is, unless overridden), without a segment view made per call (the writer's per-event path).
     */
    default void write(MemorySegment mapping, long offset, byte[] source, int from, int length) throws IOException {
        write(mapping, offset, MemorySegment.ofArray(source).asSlice(from, length));
    }

    /** Makes {@code [offset, offset + length)} of the mapping durable (msync). */
    void force(MemorySegment mapping, long offset, long length) throws IOException;

    /** Makes a folder's entries (creations, renames, deletions) durable. */
    void forceDirectory(Path dir) throws IOException;

    /** Writes a whole file and forces it (used for temp files that are then renamed). */
    void writeFile(Path file, byte[] content) throws IOException;

    /** Atomically renames {@code from} to {@code to}, replacing {@code to}. */
    void rename(Path from, Path to) throws IOException;

    /**
     * Opens {@code file} as {@link FileChannel#open(Path, OpenOption...)} does. Writes,
     * truncations and forces the store makes on a file go through a channel opened here.
     */
    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** Makes every change to the filesystem that holds {@code path} durable ({@code syncfs(2)}). */
    void syncfs(Path path) throws IOException;

    /** Removes {@code file} if it exists; durable only once its folder is forced. */
    boolean deleteIfExists(Path file) throws IOException;

    /** Creates {@code dir} and any missing parents; durable only once each parent is forced. */
    void createDirectories(Path dir) throws IOException;

    /**
     * Creates each of {@code dirs} and any missing parents, forcing each new folder's parent, and
     * forces each one's parent even when it was there already, so the folders survive a power cut
     * (a folder's entry in its parent is durable only once the parent is forced; without it a cut
     * can take {@code log/} away with every segment in it). The last forces cover a folder a
     * killed run created and never forced: it exists, but only in the page cache. Each parent is
     * forced once, however many of {@code dirs} share it (a start-up on an SD card pays per force).
     */
    default void createDirectoriesDurably(Path... dirs) throws IOException {
        java.util.Set<Path> parents = new java.util.LinkedHashSet<>();
        for (Path dir : dirs) {
            Path target = dir.toAbsolutePath().normalize();
            java.util.ArrayDeque<Path> missing = new java.util.ArrayDeque<>();
            for (Path p = target; p != null && !java.nio.file.Files.isDirectory(p); p = p.getParent()) {
                missing.push(p);
            }
            for (Path p : missing) {
                // A new folder's parent is forced before anything is made inside the new folder.
                createDirectories(p);
                forceDirectory(p.getParent());
                parents.remove(p.getParent());
            }
            if (missing.isEmpty() && target.getParent() != null) {
                parents.add(target.getParent());
            }
        }
        for (Path parent : parents) {
            forceDirectory(parent);
        }
    }
}
