package io.ringstore.log;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Every operation by which the main log touches storage. One production implementation
 * ({@link FileStorageIo}); tests wrap it to fail the Nth call, once or for good, and check that
 * the log's invariants survive each fault.
 */
public interface StorageIo {

    /** Creates {@code file} with real blocks for {@code size} bytes (never sparse). */
    void allocate(Path file, long size) throws IOException;

    /** Maps {@code file} read-write and shared, {@code size} bytes, into {@code arena}. */
    MemorySegment map(Path file, long size, Arena arena) throws IOException;

    /** Copies {@code source} into {@code mapping} at {@code offset}. */
    void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException;

    /** Makes {@code [offset, offset + length)} of the mapping durable (msync). */
    void force(MemorySegment mapping, long offset, long length) throws IOException;

    /** Makes a folder's entries (creations, renames, deletions) durable. */
    void forceDirectory(Path dir) throws IOException;

    /** Writes a whole file and forces it (used for temp files that are then renamed). */
    void writeFile(Path file, byte[] content) throws IOException;

    /** Atomically renames {@code from} to {@code to}, replacing {@code to}. */
    void rename(Path from, Path to) throws IOException;
}
