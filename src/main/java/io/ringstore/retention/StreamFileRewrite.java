package io.ringstore.retention;

import io.ringstore.log.RecordFrame;
import io.ringstore.log.StorageIo;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.split.StreamFileFormat;
import io.ringstore.split.StreamFileReader;
import io.ringstore.split.StreamFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Rewrites stream files without the versions below a given one, atomically, in batches: each
 * file's kept events go to {@code <file>.compact} (same {@link StreamFileFormat}, header first
 * version = the first kept one, a footer every {@link #GROUP_BYTES} so a later start checks a
 * small last group) ({@link #prepare}); then {@link #commit} makes every temp file of the batch
 * durable with one {@code syncfs} (one journal commit, not one fsync per file: the same trick
 * that makes the splitter affordable on an SD card), renames each over its file, and makes the
 * renames durable with a second {@code syncfs}. A failed first syncfs abandons the batch (its
 * temp files may have lost pages: they are removed and the rewrite is redone); where the second
 * fails, each folder is forced instead.
 *
 * <p>The rewritten file ends at the same last version as the old one (with no events at all,
 * it is a bare header whose first version is last + 1), so the splitter's next group follows on
 * and readers that opened the old file keep reading the old inode.
 *
 * <p>Crash windows, each leaving every stream of the batch fully before or fully after its
 * rewrite:
 * <ul>
 *   <li>while writing the temp files or during the first syncfs: the old files are untouched;
 *       temp files are overwritten by the next rewrite or removed by {@link #removeLeftovers};</li>
 *   <li>between the renames: renamed streams are after, the rest before (each rename is atomic),
 *       and every temp file renamed had been made durable by the first syncfs;</li>
 *   <li>after the renames, before the second syncfs: after a power cut each name points at its
 *       old or its new inode, both whole;</li>
 *   <li>after the second syncfs: done.</li>
 * </ul>
 */
public final class StreamFileRewrite {
    public static final String TEMP_SUFFIX = ".compact";
    static final int GROUP_BYTES = 64 << 10;

    private StreamFileRewrite() {}

    /** What a rewrite did. */
    public record Result(long oldBytes, long newBytes, long firstVersion, long lastVersion) {}

    /**
     * Writes {@code file}'s replacement, keeping versions {@code keepFrom..lastVersion}, where
     * {@code lastVersion} is the version its last footer names (events after it, an unsynced
     * group, are not copied; the caller only rewrites synced files).
     *
     * @return what was done, or null when the file did not read back whole up to {@code lastVersion}
     *         (it is left as it is)
     */
    private static Result write(StorageIo io, Path file, String stream, long keepFrom, long lastVersion,
                                boolean force) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + TEMP_SUFFIX);
        long oldBytes = Files.size(file);
        long first = Math.min(keepFrom, lastVersion + 1);
        long newBytes;
        try (StreamFileReader r = StreamFileReader.open(file, stream);
             FileChannel out = io.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            first = Math.max(first, r.firstVersion());
            byte[] header = StreamFileFormat.header(stream, first);
            ByteBuffer buf = ByteBuffer.allocate(GROUP_BYTES * 2).order(ByteOrder.LITTLE_ENDIAN);
            buf.put(header);
            long written = 0;        // bytes of temp file flushed so far
            long groupStart = header.length;
            long copiedLast = first - 1;
            LogRecord rec;
            while (copiedLast < lastVersion && (rec = r.next()) != null) {
                if (rec.getVersion() < first) {
                    continue;
                }
                byte[] body = rec.toByteArray();
                int frame = (int) RecordFrame.frameLength(body.length);
                int need = frame + StreamFileFormat.FOOTER_LENGTH;
                if (buf.remaining() < need) {
                    // Whole frames so far go out; the group's footer follows later (its start stays).
                    written += flush(buf, out, written);
                    if (buf.capacity() < need) {
                        buf = ByteBuffer.allocate(need).order(ByteOrder.LITTLE_ENDIAN);
                    }
                }
                StreamFileFormat.putFrame(buf, body);
                copiedLast = rec.getVersion();
                if (buf.position() >= GROUP_BYTES || copiedLast == lastVersion) {
                    StreamFileFormat.putFooter(buf, copiedLast, groupStart);
                    written += flush(buf, out, written);
                    groupStart = written;
                }
            }
            if (copiedLast != lastVersion) {
                // Torn or damaged where it should be whole: leave the file to the splitter's checks.
                out.close();
                io.deleteIfExists(temp);
                return null;
            }
            written += flush(buf, out, written);
            if (force) {
                out.force(true);
            }
            newBytes = written;
        }
        return new Result(oldBytes, newBytes, first, lastVersion);
    }

    /** A temp file written by {@link #prepare}, waiting for {@link #commit}. */
    public record Prepared(Path file, Path temp, Result result) {}

    /**
     * Writes the rewritten file next to {@code file} without forcing it; null when the file did
     * not read back whole (then nothing is left behind).
     */
    public static Prepared prepare(StorageIo io, Path file, String stream, long keepFrom, long lastVersion)
            throws IOException {
        Result r = write(io, file, stream, keepFrom, lastVersion, false);
        return r == null ? null : new Prepared(file, file.resolveSibling(file.getFileName() + TEMP_SUFFIX), r);
    }

    /**
     * Makes a batch of prepared files durable, renames each over its stream file, and makes the
     * renames durable. A failure part way leaves each stream either before or after (see the
     * class comment); the caller retries what is left on its next pass.
     */
    public static void commit(StorageIo io, List<Prepared> batch, Path streamsDir) throws IOException {
        if (batch.isEmpty()) {
            return;
        }
        try {
            io.syncfs(streamsDir);
        } catch (IOException | RuntimeException e) {
            // Error window: the first syncfs failed, so any page of the temp files may be lost
            // (Linux marks them clean and reports the error once: a force now would succeed
            // without them). Nothing is renamed yet: the temp files go, the old files stay whole,
            // and the caller's next pass writes the rewrite anew.
            for (Prepared p : batch) {
                try {
                    io.deleteIfExists(p.temp());
                } catch (IOException | RuntimeException removeFailed) {
                    e.addSuppressed(removeFailed); // removeLeftovers takes it at the next start
                }
            }
            throw new IOException("syncfs of rewritten stream files failed, rewrite abandoned: dir=" + streamsDir
                    + " files=" + batch.size(), e);
        }
        for (Prepared p : batch) {
            // commit point: the rename makes the new file the stream's file.
            io.rename(p.temp(), p.file());
        }
        try {
            io.syncfs(streamsDir);
        } catch (IOException | RuntimeException e) {
            // Error window: the renames may not be durable (the new files' bytes are: the first
            // syncfs). After a cut each name points at its old or its new file, both whole; the
            // folders are forced so that a good answer here means the renames are durable.
            java.util.Set<Path> folders = new java.util.HashSet<>();
            try {
                for (Prepared p : batch) {
                    if (folders.add(p.file().getParent())) {
                        io.forceDirectory(p.file().getParent());
                    }
                }
            } catch (IOException | RuntimeException forceFailed) {
                forceFailed.addSuppressed(e);
                throw forceFailed;
            }
        }
    }

    /** Rewrites one file on its own: {@link #prepare} and {@link #commit} of a batch of one. */
    public static Result rewrite(StorageIo io, Path file, String stream, long keepFrom, long lastVersion)
            throws IOException {
        Prepared p = prepare(io, file, stream, keepFrom, lastVersion);
        if (p == null) {
            return null;
        }
        commit(io, List.of(p), file.getParent().getParent());
        return p.result();
    }

    /** Hard delete: removes the file and forces its folder (a crash before the force: it is removed again). */
    public static long delete(StorageIo io, Path file) throws IOException {
        long size = Files.size(file);
        if (!io.deleteIfExists(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString());
        }
        io.forceDirectory(file.getParent());
        return size;
    }

    /** Writes what is in {@code buf} at {@code at}; returns the bytes written and clears buf. */
    private static long flush(ByteBuffer buf, FileChannel out, long at) throws IOException {
        buf.flip();
        long n = 0;
        while (buf.hasRemaining()) {
            n += out.write(buf, at + n);
        }
        buf.clear();
        return n;
    }

    /**
     * Removes temp files a crash left in {@code streamsDir} (two levels: fan-out folders): this
     * class's rewrites ({@code .compact}) and the splitter's rebuilds
     * ({@link StreamFiles#REBUILD_TEMP_SUFFIX}). Crash window: the process died before the
     * rename that would have made one the stream's file; the stream file is the old one, whole.
     */
    public static int removeLeftovers(StorageIo io, Path streamsDir) throws IOException {
        if (!Files.isDirectory(streamsDir)) {
            return 0;
        }
        int n = 0;
        try (var walk = Files.walk(streamsDir, 2)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(TEMP_SUFFIX) || name.endsWith(".stream" + StreamFiles.REBUILD_TEMP_SUFFIX)) {
                    io.deleteIfExists(p);
                    n++;
                }
            }
        }
        return n;
    }

    /** The last version {@code file}'s last footer names, -2 when it does not end with a sound footer. */
    static long lastVersionByFooter(Path file) throws IOException {
        return StreamFiles.lastVersionByFooter(file);
    }
}
