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
    /** A rebuild's temp file: {@code <file>.tmp} beside the stream file. */
    public static final String REBUILD_TEMP_SUFFIX = ".tmp";
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
    /**
     * Versions that rebuilds since start could not keep (in neither the damaged file's sound part
     * nor the log, or left out because the format has no gaps): acknowledged events no read
     * returns any more. Written by the splitter thread, read by status.
     */
    private volatile long lostVersions;
    /** See {@link #groupBuffer}. */
    private ByteBuffer group;
    private static final int GROUP_BUFFER_KEEP = 64 << 10;

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

    /** See {@link #lostVersions}. */
    public long lostVersions() {
        return lostVersions;
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
     * The first version {@code stream}'s file's header names (a bare header names the one after
     * its last), or -1 when there is no file or its header is damaged.
     */
    public long firstVersion(String stream) throws IOException {
        try (StreamFileReader r = StreamFileReader.open(pathFor(stream), stream)) {
            return r.firstVersion();
        } catch (java.nio.file.NoSuchFileException | StreamFileException e) {
            return -1;
        }
    }

    /**
     * The file's record of {@code version}, or null when the file does not hold it or it cannot
     * be found soundly. Walks back from the last footer a group at a time: the versions a
     * re-split after a restart overlaps are in the last groups.
     */
    public io.ringstore.log.proto.LogRecord recordAt(String stream, long version) throws IOException {
        Path file = pathFor(stream);
        int header = StreamFileFormat.headerLength(stream);
        long end;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            end = ch.size();
            ByteBuffer footer = ByteBuffer.allocate(StreamFileFormat.FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            while (end >= header + StreamFileFormat.FOOTER_LENGTH) {
                footer.clear();
                while (footer.hasRemaining() && ch.read(footer, end - StreamFileFormat.FOOTER_LENGTH + footer.position()) > 0) {
                    // fill
                }
                if (footer.hasRemaining() || !StreamFileFormat.footerOk(footer, 0)
                        || footer.getLong(StreamFileFormat.FOOTER_LAST_VERSION_OFFSET) < version) {
                    return null;
                }
                long groupStart = footer.getLong(StreamFileFormat.FOOTER_GROUP_START_OFFSET);
                if (groupStart < header || groupStart >= end) {
                    return null;
                }
                try (StreamFileReader r = StreamFileReader.openAt(file, stream, groupStart)) {
                    io.ringstore.log.proto.LogRecord rec = r.next();
                    if (rec != null && rec.getVersion() <= version) {
                        while (rec != null && rec.getVersion() < version) {
                            rec = r.next();
                        }
                        return rec != null && rec.getVersion() == version ? rec : null;
                    }
                }
                end = groupStart;
            }
        } catch (java.nio.file.NoSuchFileException | StreamFileException e) {
            return null;
        }
        return null;
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
                Logger.warn("cutting torn tail of stream file file={} offset={} bytes={} reason={} (re-split from the log)",
                        file, keep, size - keep, r.stopReason() != null ? r.stopReason() : "no footer after the last frame");
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

    /** Puts frame {@code i} of a group into the group's buffer (see {@link #appendGroup(String, int, long, long, Frames)}). */
    @FunctionalInterface
    public interface Frames {
        void put(int i, ByteBuffer out) throws IOException;
    }

    /**
     * Appends {@code count} frames (versions {@code firstVersion} on, consecutive; {@code frames}
     * puts each, {@code frameBytes} in all) as one group with one write, creating the file (with
     * its header) if needed. Durable only after {@link #syncAll()}.
     */
    public void appendGroup(String stream, int count, long frameBytes, long firstVersion, Frames frames)
            throws IOException {
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
        int bytes = (int) ((created ? StreamFileFormat.headerLength(stream) : 0) + frameBytes
                + StreamFileFormat.FOOTER_LENGTH);
        ByteBuffer out = groupBuffer(bytes);
        if (created) {
            out.put(StreamFileFormat.header(stream, firstVersion));
        }
        long groupStart = fileEnd + out.position();
        // Error window: a frame that cannot be taken (its log segment reclaimed, its record
        // failing its check) throws here, before the write: nothing of the group reaches the file.
        for (int i = 0; i < count; i++) {
            frames.put(i, out);
        }
        if (out.position() != bytes - StreamFileFormat.FOOTER_LENGTH) {
            throw new IllegalStateException("group frames took " + (out.position() - (groupStart - fileEnd))
                    + " bytes, not the " + frameBytes + " announced: stream=" + stream);
        }
        bytesWritten += bytes; // retention's disk accounting (issue 8)
        long lastVersion = firstVersion + count - 1;
        StreamFileFormat.putFooter(out, lastVersion, groupStart);
        out.flip();
        long at = fileEnd;
        try {
            // Crash window: a power cut during or after this write, before syncAll, leaves part of
            // the group past the last synced size; the checkpoint has not passed these events, and
            // checkTail cuts the torn group on the next touch so they are split again from the log.
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
     * The buffer a group is built in, {@code bytes} long, reused from group to group (only the
     * splitter thread appends groups): one was allocated per group, 6% of all the daemon allocated
     * (JFR, socket 8 x 32, 10,000 streams). On the heap, as StreamFileFormat checksums it in place. One
     * that grew past GROUP_BUFFER_KEEP for a rare large group is let go afterwards.
     */
    private ByteBuffer groupBuffer(int bytes) {
        if (group == null || group.capacity() < bytes) {
            group = ByteBuffer.allocate(Math.max(bytes, GROUP_BUFFER_KEEP)).order(ByteOrder.LITTLE_ENDIAN);
        } else if (group.capacity() > GROUP_BUFFER_KEEP && bytes <= GROUP_BUFFER_KEEP) {
            group = ByteBuffer.allocate(GROUP_BUFFER_KEEP).order(ByteOrder.LITTLE_ENDIAN);
        }
        return group.clear().limit(bytes);
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

    /** {@link #startRebuild}'s last version when the caller does not know it. */
    public static final long LAST_VERSION_UNKNOWN = Long.MIN_VALUE;

    /**
     * Starts rebuilding {@code stream}'s damaged file: the caller feeds it what the log holds
     * ({@link Rebuild#add}, in version order) and then {@link Rebuild#commit}s it. See
     * {@link Rebuild} for what the new file holds and how it replaces the old one.
     *
     * @param throughVersion the last version the file must hold (the one before the stream's
     *                       first unsplit event; -1 when every event of the stream is unsplit),
     *                       or {@link #LAST_VERSION_UNKNOWN} when the caller does not know it (then
     *                       the damaged file's last footer, if sound, says it)
     * @param hiddenBelow    the stream's first version its limits or a delete leave visible (0: all):
     *                       retention drops those below from the file on purpose, so the rebuild
     *                       does not count them as lost when neither the file nor the log holds them
     */
    public Rebuild startRebuild(String stream, long throughVersion, long hiddenBelow) throws IOException {
        Path file = pathFor(stream);
        ensureFolder(file.getParent());
        forget(stream);
        return new Rebuild(stream, file, throughVersion, hiddenBelow);
    }

    /**
     * One rebuild of a damaged stream file, streamed: memory stays at one group buffer however
     * long the stream is.
     *
     * <p>What the new file holds: the damaged file's sound prefix (every frame its reader
     * returns before the first damage, up to {@code throughVersion}) below the first version
     * the log still holds, then the log's versions (the log is the truth where it holds a
     * version; the file fills in what retention has reclaimed from it). Versions in neither are lost (logged as an error, with the
     * damaged file kept aside as {@code <file>.damaged} for an operator). The file must end at
     * the stream's last split version, because the splitter appends the next one to it and
     * the format has no gaps: when versions are lost in the middle, the file keeps the run
     * after them and its header names that run's first version; when they are lost at the end,
     * the file is a bare header naming the version after them. Either way the header names
     * the first version the file really holds, so reads of what is left work and a read of
     * what was lost sees nothing (the loss was reported here) instead of damage forever.
     *
     * <p>The swap, and the crash window each step leaves:
     * <ol>
     *   <li>the damaged file is copied to {@code <file>.damaged} and forced. Crash: the damaged
     *       file is still the stream's file; the copy is overwritten by the next rebuild;</li>
     *   <li>the new file is written to {@code <file>.tmp} (header last, at offset 0) and forced.
     *       Crash: as above, plus a temp file, removed at the next start
     *       ({@code StreamFileRewrite.removeLeftovers}) or overwritten by the next rebuild;</li>
     *   <li>one rename of the temp file over the stream file (commit point). Crash before the
     *       folder is forced: after a power cut the name points at the damaged file or at the
     *       new one, both whole (the new one was forced before the rename); never at nothing;</li>
     *   <li>the folder is forced: done.</li>
     * </ol>
     */
    public final class Rebuild implements AutoCloseable {
        private final String stream;
        private final Path file;
        private final Path temp;
        private final long throughVersion;
        private final long hiddenBelow;   // versions below it are hidden by limits or a delete
        private final int headerLength;
        private final FileChannel out;
        private final long footerLast;    // the damaged file's last footer version (-2: none sound)
        private long damagedFirst = -1;   // the damaged file's header first version (-1: unreadable)
        private ByteBuffer buf = ByteBuffer.allocate(2 * GROUP_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long written;     // bytes of frames and footers in the temp file after the header
        private long groupStart;  // file offset of the current group's first frame
        private long first = -1;  // first version held (-1: none yet)
        private long last = -1;
        private long groupLast = -1;
        private long fromFile = -1; // last version taken from the damaged file
        private boolean fromLog;    // a version from the log was added
        private boolean committed;

        private Rebuild(String stream, Path file, long throughVersion, long hiddenBelow) throws IOException {
            this.stream = stream;
            this.hiddenBelow = hiddenBelow;
            this.file = file;
            this.temp = file.resolveSibling(file.getFileName() + REBUILD_TEMP_SUFFIX);
            this.throughVersion = throughVersion;
            this.headerLength = StreamFileFormat.headerLength(stream);
            this.groupStart = headerLength;
            long footer = -2;
            boolean exists = Files.exists(file);
            if (exists) {
                // Crash window: from here to the rename the damaged file stays the stream's
                // file; a partial copy aside is overwritten by the next rebuild.
                copyAside();
                footer = lastVersionByFooter(file);
            }
            this.footerLast = footer;
            this.out = io.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            try {
                if (exists) {
                    keepSoundPrefix();
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        /** Copies the damaged file to {@code <file>.damaged} (through the storage seam) and forces it. */
        private void copyAside() throws IOException {
            Path aside = file.resolveSibling(file.getFileName() + ".damaged");
            ByteBuffer chunk = ByteBuffer.allocate(GROUP_BYTES);
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ);
                 FileChannel copy = io.open(aside, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         StandardOpenOption.TRUNCATE_EXISTING)) {
                long at = 0;
                while (in.read(chunk.clear(), at) > 0) {
                    chunk.flip();
                    while (chunk.hasRemaining()) {
                        at += copy.write(chunk, at);
                    }
                }
                copy.force(true);
            }
        }

        /** Takes every sound frame of the damaged file, up to the first damage and {@code throughVersion}. */
        private void keepSoundPrefix() throws IOException {
            try (StreamFileReader r = StreamFileReader.open(file, stream)) {
                damagedFirst = r.firstVersion();
                io.ringstore.log.proto.LogRecord rec;
                while ((rec = r.next()) != null
                        && (throughVersion == LAST_VERSION_UNKNOWN || rec.getVersion() <= throughVersion)) {
                    append(rec.getVersion(), rec.toByteArray());
                    fromFile = rec.getVersion();
                }
                Logger.warn("rebuild: kept the sound part of the damaged file file={} versions={}..{} stopped={}",
                        file, damagedFirst, fromFile, r.stopReason() != null ? r.stopReason()
                                : "at offset " + r.offset() + " (end of file)");
            } catch (StreamFileException e) {
                // A damaged header: the file's frames cannot be trusted to be this stream's.
                Logger.warn("rebuild: nothing kept of the damaged file: {}", e.getMessage());
            }
        }

        /**
         * Adds a version the log holds (the log's versions of the stream, ascending). The log is
         * the truth for what it holds: at its first version that the damaged file's part also
         * holds, the file's copy is cut back to there (in periodic or none durability a cut can
         * leave a file with versions the log lost and later reused).
         */
        public void add(long version, byte[] body) throws IOException {
            if (version < damagedFirst) {
                return; // dropped by retention before the damage
            }
            if (first >= 0 && version <= last) {
                if (fromLog) {
                    return; // the log repeats no version; nothing to take twice
                }
                cutBackTo(version);
            }
            fromLog = true;
            append(version, body);
        }

        /**
         * Cuts the temp file back to just before {@code version}'s frame (found by reading the
         * temp file, this rebuild's own, sound bytes: no memory per version).
         */
        private void cutBackTo(long version) throws IOException {
            if (version <= first) {
                discard();
                fromFile = -1;
                return;
            }
            flush(); // whole frames, no footer: the reader below ends cleanly after them
            try (StreamFileReader r = StreamFileReader.open(temp, stream)) {
                long at = r.offset();
                io.ringstore.log.proto.LogRecord rec;
                while ((rec = r.next()) != null && rec.getVersion() < version) {
                    at = r.offset();
                }
                if (rec == null) {
                    throw new StreamFileException(temp, at, "rebuild temp file ends before version " + version
                            + " it holds by count (first=" + first + " last=" + last + ")");
                }
                out.truncate(at);
                written = at - headerLength;
                groupStart = r.lastFooterEnd(); // frames from here to the cut await their footer
                groupLast = r.lastFooterVersion();
            }
            last = version - 1;
            fromFile = Math.min(fromFile, last);
        }

        private void append(long version, byte[] body) throws IOException {
            if (first >= 0 && version != last + 1) {
                Logger.error("stream {}: versions {}..{} are lost: its file was damaged there and the log no "
                        + "longer holds them; the rebuilt file starts at version {} (versions {}..{} are left out: "
                        + "the format has no gaps; the damaged file is kept as {})",
                        stream, last + 1, version - 1, version, first, last, file.getFileName() + ".damaged");
                discard();
            }
            if (first < 0) {
                first = version;
                writeHeader(); // for now: cutBackTo reads the temp file; commit writes the final one
            }
            int need = (int) RecordFrame.frameLength(body.length) + StreamFileFormat.FOOTER_LENGTH;
            if (buf.remaining() < need) {
                flush(); // whole frames so far go out; the group's footer follows later
                if (buf.capacity() < need) {
                    buf = ByteBuffer.allocate(need).order(ByteOrder.LITTLE_ENDIAN);
                }
            }
            StreamFileFormat.putFrame(buf, body);
            last = version;
            if (buf.position() >= GROUP_BYTES) {
                closeGroup();
            }
        }

        /** Forgets everything added so far (versions before a gap cannot stay: the format has none). */
        private void discard() throws IOException {
            out.truncate(headerLength);
            buf.clear();
            written = 0;
            groupStart = headerLength;
            groupLast = -1;
            first = -1;
            last = -1;
        }

        private void closeGroup() throws IOException {
            StreamFileFormat.putFooter(buf, last, groupStart);
            flush();
            groupStart = headerLength + written;
            groupLast = last;
        }

        private void writeHeader() throws IOException {
            ByteBuffer h = ByteBuffer.wrap(StreamFileFormat.header(stream, first));
            long at = 0;
            while (h.hasRemaining()) {
                at += out.write(h, at);
            }
            bytesWritten += h.capacity();
        }

        private void flush() throws IOException {
            buf.flip();
            long at = headerLength + written;
            while (buf.hasRemaining()) {
                int n = out.write(buf, at);
                at += n;
                written += n;
                bytesWritten += n; // retention's disk accounting (issue 8)
            }
            buf.clear();
        }

        /**
         * Finishes the new file and swaps it in (see the class comment for the crash windows).
         *
         * @return the last version the stream's file now holds
         */
        public long commit() throws IOException {
            // A known -1 (the whole stream is unsplit, so in the log) is not "unknown": the damaged
            // file's footers may name versions a pass wrote before a cut took its checkpoint, which
            // the log holds and re-splits; counting them as lost lit the fault LED for nothing.
            long expected = throughVersion != LAST_VERSION_UNKNOWN ? throughVersion : Math.max(footerLast, last);
            // Versions this rebuild leaves out (see StreamFiles#lostVersions): from the damaged
            // file's first version (those before it retention had dropped) to the new file's first.
            long lost = 0;
            if (expected > last && first < 0 && damagedFirst > expected) {
                // The old file held none of the versions through {@code expected}: retention had
                // dropped them (its header starts after them). Nothing is lost; the file is re-based.
                Logger.info("stream {}: the file held no version up to {} (retention had dropped them); the rebuilt "
                        + "file starts at version {}", stream, expected, expected + 1);
                first = expected + 1;
                last = expected;
            } else if (expected > last) {
                // The stream's newest split versions are in neither the file nor the log.
                long from = firstAccounted();
                lost = Math.max(0, expected + 1 - from); // the file now starts past all of them
                if (lost > 0) {
                    Logger.error("stream {}: versions {}..{} are lost: its file was damaged and the log no longer holds "
                            + "them; the rebuilt file holds nothing and starts at version {} ({} left out: the format "
                            + "has no gaps; the damaged file is kept as {})", stream,
                            Math.max(first >= 0 ? last + 1 : Math.max(0, damagedFirst), hiddenBelow), expected, expected + 1,
                            first >= 0 ? "versions " + first + ".." + last + " are" : "nothing else is",
                            file.getFileName() + ".damaged");
                } else {
                    hidden(expected);
                }
                discard();
                first = expected + 1;
                last = expected;
            } else if (first < 0) {
                first = 0; // nothing was ever held: a new stream's header
            } else if (first > Math.max(0, damagedFirst)) {
                long from = firstAccounted();
                lost = Math.max(0, first - from); // a gap's run before it included
                if (lost > 0) {
                    Logger.error("stream {}: versions {}..{} are lost: its file was damaged and the log no longer holds "
                            + "them; the rebuilt file starts at version {}", stream, from, first - 1, first);
                } else {
                    hidden(first - 1);
                }
            }
            if (last >= first && groupLast != last) {
                closeGroup();
            }
            writeHeader();
            // Crash window: until the rename the temp file is garbage (removed at the next start).
            out.force(true);
            out.close();
            // commit point: one rename. Crash window until the folder is forced: after a power
            // cut the name points at the damaged file or the new one (forced above), never at nothing.
            io.rename(temp, file);
            committed = true;
            lostVersions += lost; // one writer: the splitter thread
            io.forceDirectory(file.getParent());
            // The new file is durable as a whole: a later failed sync must not cut it back to a
            // size the damaged file had.
            unsynced.remove(stream);
            lastVersions.put(stream, last);
            Logger.info("rebuilt stream file: stream={} versions={}..{} fromDamagedFile={} file={}", stream, first, last,
                    fromFile < first ? "none" : first + ".." + fromFile, file);
            return last;
        }

        /**
         * The first version a rebuilt file that lacks it has lost: the damaged file's first (its
         * header's; 0 if unreadable), or the first visible one when retention hides more.
         */
        private long firstAccounted() {
            return Math.max(Math.max(0, damagedFirst), hiddenBelow);
        }

        /** Says that the versions the rebuilt file lacks through {@code through} are ones retention hides. */
        private void hidden(long through) {
            Logger.info("stream {}: the rebuilt file lacks versions up to {}, which the stream's limits or a delete "
                    + "hide (first visible {}): nothing is lost", stream, through, hiddenBelow);
        }

        /** Abandons an uncommitted rebuild: the damaged file stays, the temp file goes. */
        @Override
        public void close() throws IOException {
            if (committed) {
                return;
            }
            try {
                out.close();
            } finally {
                io.deleteIfExists(temp);
            }
        }
    }

    /** Bytes a rebuild gathers before it writes them (and closes a group there). */
    private static final int GROUP_BYTES = 64 << 10;

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

    /**
     * Removes {@code stream}'s file when the log holds every version it held (a crash before
     * the folder is forced brings it back, and the check that removed it runs again).
     */
    public void discard(String stream) throws IOException {
        forget(stream);
        Path file = pathFor(stream);
        if (io.deleteIfExists(file)) {
            io.forceDirectory(file.getParent());
        }
        lastVersions.put(stream, -1L);
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
