package io.ringstore.split;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.RecordFrame;
import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tinylog.Logger;

/**
 * The folder of stream files: where each stream's file lives, and (for the splitter thread
 * only) appending groups to them with a bounded number of open handles and a bounded memory of
 * each file's last version, whatever the number of streams.
 *
 * <p>Layout: {@code streams/<h0h1>/<readable name>-<16 hex>.stream}, where the hex is the start
 * of the SHA-256 of the stream name. 256 folders keep each to about 4,000 entries at a million
 * streams (a second level would cost a folder creation per stream at that scale, which is
 * what the splitter then spent its time on); the readable part helps a person with
 * {@code ls}; the header inside the file names the stream exactly.
 */
public final class StreamFiles {
    private static final int READABLE_CHARS = 40;
    /** MessageDigest.getInstance looks up providers on every call; one digest per thread is reused. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    });

    private final Path dir;
    private final StorageIo io;
    private final LinkedHashMap<String, FileChannel> open;
    private final LinkedHashMap<String, Long> lastVersions;
    /**
     * Every file written since the last good sync, with the size it had then (0: it did not
     * exist): what a sync must cover, and what a failed one rolls back. Cleared only by a good
     * sync, so a failed pass's writes stay covered by the next one.
     */
    private final LinkedHashMap<String, Unsynced> unsynced = new LinkedHashMap<>();
    /** Fan-out folders known to exist (at most 256), so opening a file costs no mkdir attempt. */
    private final Set<Path> folders = new HashSet<>();
    /** A fan-out folder was created since the last good sync: {@code dir} itself must be forced. */
    private boolean folderCreated;
    /** A sync failed and its roll-back is not finished: nothing known of the files is trusted. */
    private boolean rollBackPending;
    private boolean syncfsWorks = true;
    private long bytesWritten;

    /** A file written since the last good sync and its size then (0: it did not exist). */
    private record Unsynced(Path file, long syncedSize) {}

    /** For finding files and reading them (a reader's, a tool's): its own writes are repairs only. */
    public StreamFiles(Path dir, int maxOpenFiles, int rememberedVersions) {
        this(dir, maxOpenFiles, rememberedVersions, new FileStorageIo());
    }

    /** For the splitter: every write, sync, rename and delete goes through {@code io}. */
    public StreamFiles(Path dir, int maxOpenFiles, int rememberedVersions, StorageIo io) {
        this.dir = dir;
        this.io = io;
        this.open = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, FileChannel> eldest) {
                if (size() > maxOpenFiles) {
                    closeQuietly(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
        this.lastVersions = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                return size() > rememberedVersions;
            }
        };
    }

    /**
     * Bytes written to stream files through this instance (groups and rebuilds), for
     * retention's disk accounting; read on the thread that writes (the splitter's).
     */
    public long bytesWritten() {
        return bytesWritten;
    }

    public Path dir() {
        return dir;
    }

    /** The storage seam this instance writes through (retention's rewrites use the same). */
    public StorageIo io() {
        return io;
    }

    /** Where {@code stream}'s file lives (it may not exist). Safe on any thread. */
    public Path pathFor(String stream) {
        byte[] hash = sha256(stream);
        String hex = HexFormat.of().formatHex(hash, 0, 8);
        StringBuilder readable = new StringBuilder();
        for (int i = 0; i < stream.length() && readable.length() < READABLE_CHARS; i++) {
            char c = stream.charAt(i);
            readable.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' ? c : '_');
        }
        return dir.resolve(hex.substring(0, 2)).resolve(readable + "-" + hex + ".stream");
    }

    private static byte[] sha256(String s) {
        return SHA_256.get().digest(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Creates {@code folder} unless this instance already saw it exist. */
    private void ensureFolder(Path folder) throws IOException {
        if (!folders.contains(folder)) {
            folderCreated |= !Files.isDirectory(folder);
            io.createDirectories(folder);
            folders.add(folder);
        }
    }

    /**
     * The last version named by the file's last footer, or -2 when the file does not end with a
     * sound footer (being written, or torn).
     */
    public static long lastVersionByFooter(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < StreamFileFormat.FOOTER_LENGTH) {
                return -2;
            }
            ByteBuffer footer = ByteBuffer.allocate(StreamFileFormat.FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(footer, size - StreamFileFormat.FOOTER_LENGTH);
            if (footer.position() == StreamFileFormat.FOOTER_LENGTH && StreamFileFormat.footerOk(footer, 0)) {
                return footer.getLong(StreamFileFormat.FOOTER_LAST_VERSION_OFFSET);
            }
            return -2;
        }
    }

    /**
     * The last version held by {@code stream}'s file (-1 when there is no file). On first touch
     * the file's last group is checked; a torn group (written, not yet synced, when the process
     * died) is cut back to the last complete group.
     *
     * @throws StreamFileException when the file is damaged beyond a torn last group
     */
    public long lastVersion(String stream) throws IOException {
        if (rollBackPending) {
            rollBack();
        }
        Long known = lastVersions.get(stream);
        if (known != null) {
            return known;
        }
        Path file = pathFor(stream);
        if (!Files.exists(file)) {
            lastVersions.put(stream, -1L);
            return -1;
        }
        long last = checkTail(file, stream);
        lastVersions.put(stream, last);
        return last;
    }

    /** Checks the file's last footer and last group; repairs a torn tail; returns the last version. */
    private long checkTail(Path file, String stream) throws IOException {
        int header = StreamFileFormat.headerLength(stream);
        // One open serves the footer and the last group (this runs for every stream whose last
        // version was forgotten, which is most touches once streams outnumber rememberedFiles).
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size >= header + StreamFileFormat.FOOTER_LENGTH) {
                ByteBuffer footer = ByteBuffer.allocate(StreamFileFormat.FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(footer, size - StreamFileFormat.FOOTER_LENGTH);
                if (footer.position() == StreamFileFormat.FOOTER_LENGTH && StreamFileFormat.footerOk(footer, 0)) {
                    long groupStart = footer.getLong(StreamFileFormat.FOOTER_GROUP_START_OFFSET);
                    long lastVersion = footer.getLong(StreamFileFormat.FOOTER_LAST_VERSION_OFFSET);
                    if (groupStart >= header && groupStart < size
                            && lastGroupSound(ch, file, stream, groupStart, size, lastVersion)) {
                        return lastVersion;
                    }
                }
            }
        }
        // Crash window: the process died after writing a group and before the sync that makes
        // it durable, so its pages reached the disk partly. Find the last complete group (all
        // groups before it were synced before the splitter's checkpoint moved on) and cut there;
        // the splitter re-splits the cut events from the log.
        try (StreamFileReader r = StreamFileReader.open(file, stream)) {
            while (r.next() != null) {
                // read to the end of what is sound
            }
            long size = Files.size(file);
            long keep = r.lastFooterEnd();
            if (keep < size) {
                Logger.warn("cutting torn tail of stream file file={} offset={} bytes={} (re-split from the log)",
                        file, keep, size - keep);
                try (FileChannel ch = io.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(keep);
                    ch.force(true);
                }
            }
            return r.lastFooterVersion();
        }
    }

    /** Reads just the last group (one window's worth of one stream) and checks it is whole. */
    private static boolean lastGroupSound(FileChannel ch, Path file, String stream, long groupStart, long size,
                                          long lastVersion) throws IOException {
        try (StreamFileReader r = StreamFileReader.openAt(ch, file, stream, groupStart)) {
            while (r.next() != null) {
                // read to the end
            }
            return r.stopReason() == null && r.offset() == size && r.lastFooterEnd() == size
                    && r.lastFooterVersion() == lastVersion;
        }
    }

    /**
     * Appends {@code bodies} (versions {@code firstVersion} on, consecutive) as one group with one
     * write, creating the file (with its header) if needed. Durable only after {@link #syncAll()}.
     */
    public void appendGroup(String stream, List<byte[]> bodies, long firstVersion) throws IOException {
        long last = lastVersion(stream);
        FileChannel ch = open.get(stream);
        if (ch == null) {
            Path file = pathFor(stream);
            ensureFolder(file.getParent());
            ch = io.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            open.put(stream, ch);
        }
        long fileEnd = ch.size();
        unsynced.putIfAbsent(stream, new Unsynced(pathFor(stream), fileEnd));
        // A file that holds nothing yet gets its header (a zero-length one is a torn creation).
        boolean created = last < 0 && fileEnd == 0;
        int bytes = created ? StreamFileFormat.headerLength(stream) : 0;
        for (byte[] b : bodies) {
            bytes += (int) RecordFrame.frameLength(b.length);
        }
        bytes += StreamFileFormat.FOOTER_LENGTH;
        bytesWritten += bytes; // retention's disk accounting (issue 8)
        ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (created) {
            out.put(StreamFileFormat.header(stream, firstVersion));
        }
        long groupStart = fileEnd + out.position();
        for (byte[] b : bodies) {
            StreamFileFormat.putFrame(out, b);
        }
        long lastVersion = firstVersion + bodies.size() - 1;
        StreamFileFormat.putFooter(out, lastVersion, groupStart);
        out.flip();
        long at = fileEnd;
        try {
            while (out.hasRemaining()) {
                at += ch.write(out, at);
            }
        } catch (IOException | RuntimeException e) {
            // Error window: a failed or short write (a full disk) left part of the group in the
            // file. It is cut back to where the group started before anything else, so that no
            // retry appends after the garbage; the file is then re-checked on its next touch.
            forget(stream);
            try (FileChannel cut = io.open(pathFor(stream), StandardOpenOption.WRITE)) {
                if (cut.size() > fileEnd) {
                    cut.truncate(fileEnd);
                }
            } catch (IOException | RuntimeException cutFailed) {
                // The group start is past the last synced size: the roll-back cuts there instead.
                rollBackPending = true;
                e.addSuppressed(cutFailed);
            }
            throw new IOException("writing a group to a stream file failed: stream=" + stream + " file="
                    + pathFor(stream) + " offset=" + fileEnd + " written=" + (at - fileEnd) + " bytes=" + bytes, e);
        }
        lastVersions.put(stream, lastVersion);
    }

    /**
     * Makes every group appended since the last good sync durable: one {@code syncfs} of the
     * filesystem (one journal commit), or, where syncfs has failed before, a force of each file
     * written since and of their folders.
     *
     * <p>A failed sync may have lost any of those writes: Linux marks the pages clean and
     * reports the error once, so a retry would succeed without them. So a failure rolls back
     * every file written since the last good sync to its size then (a file created since is
     * removed), forgets what it knew of them, and throws: the next pass re-checks each file from
     * disk and splits the rolled-back events again, with new writes the next sync covers.
     */
    public void syncAll() throws IOException {
        if (rollBackPending) {
            rollBack();
        }
        try {
            if (syncfsWorks) {
                io.createDirectories(dir);
                io.syncfs(dir);
            } else {
                forceEach();
            }
        } catch (IOException | RuntimeException e) {
            // Error window: the sync failed after the groups were written; any of them may be
            // lost on disk though the page cache still shows them.
            if (syncfsWorks) {
                syncfsWorks = false;
                Logger.warn("syncfs failed, forcing stream files one by one from now on: {}", e.toString());
            }
            int files = unsynced.size();
            rollBackPending = true;
            try {
                rollBack();
            } catch (IOException | RuntimeException rollBackFailed) {
                e.addSuppressed(rollBackFailed);
            }
            throw new IOException("making stream files durable failed, their unsynced groups were rolled back: dir="
                    + dir + " files=" + files, e);
        }
        unsynced.clear();
        folderCreated = false;
    }

    /** The fallback sync: each file written since the last good sync, then their folders. */
    private void forceEach() throws IOException {
        Set<Path> touchedFolders = new HashSet<>();
        for (Map.Entry<String, Unsynced> e : unsynced.entrySet()) {
            Path file = e.getValue().file();
            FileChannel ch = open.get(e.getKey());
            if (ch != null) {
                ch.force(false);
            } else if (Files.exists(file)) {
                try (FileChannel c = io.open(file, StandardOpenOption.WRITE)) {
                    c.force(false);
                }
            }
            if (e.getValue().syncedSize() == 0) {
                touchedFolders.add(file.getParent()); // a new name in it
            }
        }
        for (Path folder : touchedFolders) {
            io.forceDirectory(folder);
        }
        if (folderCreated) {
            io.forceDirectory(dir);
        }
    }

    /**
     * Cuts every file written since the last good sync back to its size then (removes one
     * created since) and forgets what was known of it. Each step is idempotent: a failure leaves
     * {@link #rollBackPending} set and the whole roll-back is redone before the next use.
     */
    private void rollBack() throws IOException {
        for (String stream : unsynced.keySet()) {
            forget(stream);
        }
        for (Map.Entry<String, Unsynced> e : unsynced.entrySet()) {
            Path file = e.getValue().file();
            long size = e.getValue().syncedSize();
            if (!Files.exists(file)) {
                continue;
            }
            if (size == 0) {
                io.deleteIfExists(file);
                Logger.warn("rolled back a stream file created since the last good sync: file={}", file);
                continue;
            }
            try (FileChannel ch = io.open(file, StandardOpenOption.WRITE)) {
                long now = ch.size();
                if (now > size) {
                    ch.truncate(size);
                    Logger.warn("rolled back unsynced groups of stream file file={} offset={} bytes={} (re-split from the log)",
                            file, size, now - size);
                }
            }
        }
        // The entries stay until a good sync: the cuts themselves must reach the disk.
        rollBackPending = false;
    }

    /**
     * Replaces {@code stream}'s file with {@code bodies} (a rebuild from the log), atomically:
     * temp file, force, rename, force folder. The old file is kept as {@code .damaged}.
     */
    public void rebuild(String stream, List<byte[]> bodies, long firstVersion) throws IOException {
        for (byte[] b : bodies) {
            bytesWritten += RecordFrame.frameLength(b.length);
        }
        Path file = pathFor(stream);
        ensureFolder(file.getParent());
        FileChannel old = open.remove(stream);
        closeQuietly(old);
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        int bytes = StreamFileFormat.headerLength(stream) + StreamFileFormat.FOOTER_LENGTH;
        bytesWritten += bytes; // retention's disk accounting (issue 8); frames added below
        for (byte[] b : bodies) {
            bytes += (int) RecordFrame.frameLength(b.length);
        }
        ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        out.put(StreamFileFormat.header(stream, firstVersion));
        long groupStart = out.position();
        for (byte[] b : bodies) {
            StreamFileFormat.putFrame(out, b);
        }
        long lastVersion = firstVersion + bodies.size() - 1;
        if (!bodies.isEmpty()) {
            StreamFileFormat.putFooter(out, lastVersion, groupStart);
        }
        out.flip();
        try (FileChannel ch = io.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.force(true);
        }
        if (Files.exists(file)) {
            io.rename(file, file.resolveSibling(file.getFileName() + ".damaged"));
        }
        io.rename(temp, file);
        io.forceDirectory(file.getParent());
        lastVersions.put(stream, bodies.isEmpty() ? firstVersion - 1 : lastVersion);
    }

    /**
     * After a repair cut the main log: stream files are derived data and may hold versions the
     * cut removed. Every file whose last version is past the repaired table's is cut back to it
     * (a later append would otherwise be taken for a version the file already holds). Walks
     * every file: a repair is a rare, manual operation.
     */
    public static void cutToTable(Path dir, StorageIo io, java.util.function.ToLongFunction<String> tableVersion)
            throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> all;
        try (var walk = Files.walk(dir, 2)) {
            all = walk.filter(p -> p.getFileName().toString().endsWith(".stream")).toList();
        }
        for (Path file : all) {
            String stream = StreamFileReader.streamOf(file);
            if (stream == null) {
                continue;
            }
            long keepThrough = tableVersion.applyAsLong(stream);
            long cutAt = -1;
            long groupStart = -1;
            try (StreamFileReader r = StreamFileReader.open(file, stream)) {
                long frameStart = r.offset();
                io.ringstore.log.proto.LogRecord rec;
                while ((rec = r.next()) != null) {
                    if (rec.getVersion() > keepThrough) {
                        cutAt = frameStart;
                        break;
                    }
                    groupStart = frameStart;
                    frameStart = r.offset();
                }
                if (cutAt < 0) {
                    continue;
                }
            }
            ByteBuffer footer = ByteBuffer.allocate(StreamFileFormat.FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            try (FileChannel ch = io.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(cutAt);
                if (groupStart >= 0) {
                    StreamFileFormat.putFooter(footer, keepThrough, groupStart);
                    footer.flip();
                    while (footer.hasRemaining()) {
                        ch.write(footer, ch.size());
                    }
                }
                ch.force(true);
            }
            Logger.warn("repair: cut stream file back to the repaired log: stream={} lastVersion={} file={}",
                    stream, keepThrough, file);
        }
    }

    /** Forgets what is known of {@code stream}'s file (after damage was found). */
    public void forget(String stream) {
        closeQuietly(open.remove(stream));
        lastVersions.remove(stream);
    }

    public int openFiles() {
        return open.size();
    }

    public void close() {
        open.values().forEach(StreamFiles::closeQuietly);
        open.clear();
        folders.clear(); // after a failed window: folders removed behind our back are made again
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException e) {
            Logger.warn("closing a stream file failed: {}", e.toString());
        }
    }
}
