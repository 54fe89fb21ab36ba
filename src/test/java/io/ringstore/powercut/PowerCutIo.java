package io.ringstore.powercut;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.StorageIo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A {@link StorageIo} that does every operation for real and keeps, beside it, a model of what a
 * card would hold after a power cut: what each sync call made durable. At a chosen operation it
 * writes one state a card could hold after a cut at that moment into a new folder, which a test
 * then opens as a store.
 *
 * <p>The model (POSIX's guarantees, no more; SQLite's crash VFS and ALICE use the same):
 * <ul>
 *   <li>a file's bytes and size are durable as of its last {@code fsync}/{@code fdatasync} (a
 *       force on a channel from {@link #open}), a mapping's range as of its last {@code msync}
 *       ({@link #force(MemorySegment, long, long)}, which also makes the size durable), or the
 *       last {@link #syncfs};</li>
 *   <li>a folder's entries are durable as of its last {@link #forceDirectory} or {@link #syncfs};</li>
 *   <li>after a cut, each 4 KiB page written since it was last durable holds its old or its new
 *       content, or is torn (each 512-byte sector old or new), independently of the others and
 *       in no order; a file's size is its durable or its current one;</li>
 *   <li>each folder entry changed since its folder was last durable is its durable or its
 *       current binding; a rename within a folder is kept or reverted as one (both names).</li>
 * </ul>
 * Changes that bypass the seam are still covered: the cut compares what is on disk now with the
 * durable model, so an unsynced write that did not pass here is treated as unsynced.
 *
 * <p>Files are known by a model id, not a path or an inode number: a rename moves a path to a
 * new id, and an inode number freed by a delete may come back for a new file.
 */
public final class PowerCutIo implements StorageIo {
    static final int PAGE = 4096;
    static final int SECTOR = 512;

    private final StorageIo real = new FileStorageIo();
    private final Path root;
    /** Live inode (its fileKey) -> model id; an id is retired when its inode leaves the tree. */
    private final Map<Object, Long> idOfKey = new HashMap<>();
    private long nextId = 1;
    /** Model id -> the bytes a cut keeps for sure (length = durable size). */
    private final Map<Long, byte[]> durableData = new HashMap<>();
    /** Folder -> name -> entry, as of the folder's last sync. */
    private final Map<Path, Map<String, Entry>> durableDirs = new HashMap<>();
    /** Renames within one folder since that folder's last sync, oldest first. */
    private final List<Rename> pendingRenames = new ArrayList<>();
    /** Base address of each mapping -> the file it maps. */
    private final Map<Long, Path> mappings = new HashMap<>();

    private long operations;
    /** While set, every call that would take space fails as ENOSPC does (a full card). */
    private volatile boolean full;

    /** Makes the card full (true) or gives space back (false). */
    public void full(boolean on) {
        full = on;
    }

    boolean isFull() {
        return full;
    }

    /** Throws what Linux reports for a write to a full filesystem, while the card is full. */
    void checkSpace(Object target) throws IOException {
        if (full) {
            throw noSpace(target);
        }
    }

    /** What Linux reports for a write to a full filesystem. */
    IOException noSpace(Object target) {
        return new io.ringstore.nativeio.NoSpaceException("no space left on device (modelled): " + target);
    }
    /** Matching operations still to come before the armed cut; -1 when none is armed. */
    private long cutAt = -1;
    private java.util.function.Predicate<String> cutKinds = kind -> true;
    private CutAction cutAction;

    /** What runs at an armed cut: {@code op} is the operation's number, {@code kind} its name. */
    @FunctionalInterface
    public interface CutAction {
        void cut(long op, String kind);
    }

    /** A folder entry: a file (by model id) or a folder. */
    record Entry(long id, boolean folder) {
        static final Entry FOLDER = new Entry(-1, true);
    }

    private record Rename(Path dir, String from, String to, Entry moved) {}

    /** Models {@code root} as it is now, all of it durable (a store that was cleanly closed). */
    public PowerCutIo(Path root) throws IOException {
        this(root, root);
    }

    /**
     * Models {@code live} (what the page cache holds, e.g. after a kill) with the durable state
     * {@code durable} (a folder laid out the same way, holding only what was durable).
     */
    public PowerCutIo(Path live, Path durable) throws IOException {
        this.root = live.toAbsolutePath().normalize();
        loadDurable(durable.toAbsolutePath().normalize(), root);
    }

    private PowerCutIo(Path root, boolean empty) {
        this.root = root.toAbsolutePath().normalize();
    }

    /**
     * A kill now (SIGKILL, OOM, the watchdog): copies what is on disk, page cache included, to
     * {@code target} and returns a model of that copy that knows what of it was durable. Files
     * keep their identities: a name whose durable binding is another file than its current one
     * (a checkpoint renamed over, its folder not yet forced) stays so in the copy, which a model
     * rebuilt from two folders by path could not say.
     */
    public synchronized PowerCutIo killCopy(Path target) throws IOException {
        PowerCutIo copy = new PowerCutIo(target, true);
        Files.createDirectories(copy.root);
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                Path t = copy.rebase(root, p);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    try {
                        long id = idOf(p);
                        Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        copy.idOfKey.put(copy.fileKey(t), id);
                    } catch (NoSuchFileException gone) {
                        // removed while copying: as if the kill came just after
                    }
                }
            }
        }
        copy.nextId = nextId;
        copy.durableData.putAll(durableData);
        durableDirs.forEach((dir, entries) -> copy.durableDirs.put(copy.rebase(root, dir), new TreeMap<>(entries)));
        for (Rename r : pendingRenames) {
            copy.pendingRenames.add(new Rename(copy.rebase(root, r.dir()), r.from(), r.to(), r.moved()));
        }
        return copy;
    }

    private Path rebase(Path oldRoot, Path p) {
        return root.resolve(oldRoot.relativize(p.toAbsolutePath().normalize()).toString());
    }

    private void loadDurable(Path durableDir, Path liveDir) throws IOException {
        Map<String, Entry> entries = new TreeMap<>();
        durableDirs.put(liveDir, entries);
        if (!Files.isDirectory(durableDir)) {
            return;
        }
        try (Stream<Path> list = Files.list(durableDir)) {
            for (Path p : list.toList()) {
                String name = p.getFileName().toString();
                if (Files.isDirectory(p)) {
                    entries.put(name, Entry.FOLDER);
                    loadDurable(p, liveDir.resolve(name));
                    continue;
                }
                Path livePath = liveDir.resolve(name);
                long id = Files.exists(livePath) ? idOf(livePath) : nextId++;
                entries.put(name, new Entry(id, false));
                durableData.put(id, Files.readAllBytes(p));
            }
        }
    }

    // ---- arming a cut

    /**
     * Arms a cut before the {@code nth} operation from now (1 = the next): at it, {@code action}
     * runs on the calling thread with the operation's number, before the operation takes effect
     * (it usually calls {@link #materialize}).
     */
    public synchronized void cutBefore(long nth, CutAction action) {
        cutBefore(nth, kind -> true, action);
    }

    /**
     * Arms a cut before the {@code nth} operation from now of a kind {@code kinds} accepts (the
     * main log's writes outnumber everything else a hundred to one; this aims at the rest).
     */
    public synchronized void cutBefore(long nth, java.util.function.Predicate<String> kinds, CutAction action) {
        this.cutAt = nth;
        this.cutKinds = kinds;
        this.cutAction = action;
    }

    /** Operations counted so far (every call through this seam and its channels). */
    public synchronized long operations() {
        return operations;
    }

    private synchronized void operation(String kind) {
        operations++;
        if (cutAt > 0 && cutKinds.test(kind) && --cutAt == 0) {
            cutAt = -1;
            cutAction.cut(operations, kind);
        }
    }

    // ---- the seam

    @Override
    public void allocate(Path file, long size) throws IOException {
        operation("allocate");
        checkSpace(file);
        real.allocate(file, size); // fallocate: blocks and size durable only with a later sync
    }

    @Override
    public synchronized MemorySegment map(Path file, long size, Arena arena) throws IOException {
        operation("map");
        MemorySegment m = real.map(file, size, arena);
        mappings.put(m.address(), file.toAbsolutePath().normalize());
        return m;
    }

    @Override
    public void write(MemorySegment mapping, long offset, MemorySegment source) throws IOException {
        operation("mmap-write");
        real.write(mapping, offset, source);
    }

    @Override
    public void force(MemorySegment mapping, long offset, long length) throws IOException {
        operation("msync");
        real.force(mapping, offset, length);
        synchronized (this) {
            Path file = mappings.get(mapping.address());
            if (file == null) {
                throw new IllegalStateException("force of a mapping this model did not make");
            }
            long id = idOf(file);
            byte[] now = Files.readAllBytes(file);
            byte[] old = durableData.getOrDefault(id, new byte[0]);
            byte[] merged = Arrays.copyOf(old, now.length); // msync makes the size durable too
            long from = offset / PAGE * PAGE;
            long to = Math.min(now.length, (offset + length + PAGE - 1) / PAGE * PAGE);
            System.arraycopy(now, (int) from, merged, (int) from, (int) Math.max(0, to - from));
            durableData.put(id, merged);
        }
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        operation("fsync-dir");
        real.forceDirectory(dir);
        synchronized (this) {
            Path d = dir.toAbsolutePath().normalize();
            durableDirs.put(d, currentEntries(d));
            pendingRenames.removeIf(r -> r.dir().equals(d));
        }
    }

    @Override
    public void writeFile(Path file, byte[] content) throws IOException {
        operation("write-file");
        checkSpace(file);
        real.writeFile(file, content); // written and forced
        synchronized (this) {
            durableData.put(idOf(file), content.clone());
        }
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        operation("rename");
        synchronized (this) {
            Path f = from.toAbsolutePath().normalize();
            Path t = to.toAbsolutePath().normalize();
            Entry moved = new Entry(idOf(f), false);
            if (Files.exists(t)) {
                retire(t); // its inode leaves the tree (unless a cut reverts the rename)
            }
            real.rename(from, to);
            idOfKey.put(fileKey(t), moved.id());
            mappings.replaceAll((address, file) -> file.equals(f) ? t : file);
            if (f.getParent().equals(t.getParent())) {
                pendingRenames.add(new Rename(f.getParent(), f.getFileName().toString(),
                        t.getFileName().toString(), moved));
            }
        }
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        operation("open");
        FileChannel ch = real.open(file, options);
        long id;
        FileChannel reader;
        try {
            reader = FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
            synchronized (this) {
                id = idOf(file.toAbsolutePath().normalize());
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new ModelledChannel(ch, reader, id, this);
    }

    @Override
    public void syncfs(Path path) throws IOException {
        operation("syncfs");
        real.syncfs(path);
        synchronized (this) {
            syncTree(root);
            pendingRenames.clear();
        }
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        operation("delete");
        synchronized (this) {
            Path f = file.toAbsolutePath().normalize();
            if (Files.exists(f)) {
                retire(f);
            }
            return real.deleteIfExists(file);
        }
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        operation("mkdir");
        real.createDirectories(dir);
    }

    /** A channel's force: the file's bytes and size as they are now become durable. */
    synchronized void forced(long id, FileChannel ch) throws IOException {
        long size = ch.size();
        byte[] now = new byte[(int) size];
        ByteBuffer b = ByteBuffer.wrap(now);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // fill
        }
        durableData.put(id, now);
    }

    /** Counts an operation made through a channel (write, truncate, force). */
    void channelOperation(String kind) {
        operation(kind);
    }

    // ---- identity

    private Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    }

    private synchronized long idOf(Path p) throws IOException {
        Object key = fileKey(p);
        Long id = idOfKey.get(key);
        if (id == null) {
            id = nextId++;
            idOfKey.put(key, id);
        }
        return id;
    }

    private void retire(Path p) throws IOException {
        idOfKey.remove(fileKey(p));
    }

    private Map<String, Entry> currentEntries(Path dir) throws IOException {
        Map<String, Entry> entries = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return entries;
        }
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) {
                try {
                    entries.put(p.getFileName().toString(),
                            Files.isDirectory(p) ? Entry.FOLDER : new Entry(idOf(p), false));
                } catch (NoSuchFileException e) {
                    // removed while listing
                }
            }
        }
        return entries;
    }

    private void syncTree(Path dir) throws IOException {
        Map<String, Entry> entries = currentEntries(dir);
        durableDirs.put(dir, entries);
        for (var e : entries.entrySet()) {
            Path p = dir.resolve(e.getKey());
            if (e.getValue().folder()) {
                syncTree(p);
            } else {
                try {
                    durableData.put(e.getValue().id(), Files.readAllBytes(p));
                } catch (NoSuchFileException gone) {
                    // removed since the listing: its durable bytes stay as they were
                }
            }
        }
    }

    // ---- the cut

    /** How a cut treats what was not made durable. */
    public record CutStyle(double keepPage, double tearPage, double keepSize, double keepEntry) {
        /** Nothing that was not synced survives. */
        public static final CutStyle DURABLE_ONLY = new CutStyle(0, 0, 0, 0);
        /** Everything survives (what a SIGKILL leaves). */
        public static final CutStyle EVERYTHING = new CutStyle(1, 0, 1, 1);

        /** A style drawn from {@code rnd}: the extremes, or a mix with torn pages. */
        public static CutStyle random(Random rnd) {
            return switch (rnd.nextInt(4)) {
                case 0 -> DURABLE_ONLY;
                case 1 -> new CutStyle(rnd.nextDouble(), 0.1, rnd.nextDouble(), rnd.nextDouble());
                case 2 -> new CutStyle(0.5, 0.2, 0.5, 0.5);
                default -> new CutStyle(0.9, 0.05, 0.9, 0.9);
            };
        }
    }

    /** What a cut kept and lost, for a failure's message. */
    public record CutReport(int pagesKept, int pagesLost, int pagesTorn, int entriesKept, int entriesReverted) {}

    /**
     * Writes into {@code target} (which must not exist) one state a card could hold after a cut
     * now, drawn from {@code rnd} in the given style.
     */
    public synchronized CutReport materialize(Path target, Random rnd, CutStyle style) {
        int[] counts = new int[5];
        try {
            materializeDir(root, target, rnd, style, counts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new CutReport(counts[0], counts[1], counts[2], counts[3], counts[4]);
    }

    private void materializeDir(Path dir, Path out, Random rnd, CutStyle style, int[] counts) throws IOException {
        Files.createDirectories(out);
        Map<String, Entry> durable = durableDirs.getOrDefault(dir, Map.of());
        Map<String, Entry> current = currentEntries(dir);
        Map<String, Entry> chosen = new TreeMap<>();
        TreeSet<String> names = new TreeSet<>(durable.keySet());
        names.addAll(current.keySet());
        Map<String, Entry> decidedByRename = new HashMap<>();
        for (Rename r : pendingRenames) {
            if (!r.dir().equals(dir)) {
                continue;
            }
            // One decision for both names: a rename is atomic, kept or reverted as one.
            if (rnd.nextDouble() < style.keepEntry()) {
                decidedByRename.put(r.to(), r.moved());
                decidedByRename.put(r.from(), null);
            } else {
                decidedByRename.put(r.to(), durable.get(r.to()));
                decidedByRename.put(r.from(), durable.get(r.from()));
            }
        }
        for (String name : names) {
            Entry d = durable.get(name);
            Entry c = current.get(name);
            Entry e;
            if (Objects.equals(d, c)) {
                e = d;
            } else {
                Entry byRename = decidedByRename.get(name);
                boolean renamed = decidedByRename.containsKey(name)
                        && (Objects.equals(byRename, c) || Objects.equals(byRename, d));
                e = renamed ? byRename : rnd.nextDouble() < style.keepEntry() ? c : d;
                counts[Objects.equals(e, c) ? 3 : 4]++;
            }
            if (e == null) {
                continue;
            }
            if (e.folder()) {
                materializeDir(dir.resolve(name), out.resolve(name), rnd, style, counts);
                continue;
            }
            chosen.put(name, e);
            byte[] old = durableData.getOrDefault(e.id(), new byte[0]);
            byte[] now = e.equals(c) ? readOrNull(dir.resolve(name)) : null;
            Files.write(out.resolve(name), mix(old, now == null ? old : now, rnd, style, counts));
        }
    }

    private static byte[] readOrNull(Path p) throws IOException {
        try {
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The file a cut leaves: size durable or current, each differing page old, new or torn. */
    static byte[] mix(byte[] old, byte[] now, Random rnd, CutStyle style, int[] counts) {
        int size = old.length == now.length || rnd.nextDouble() >= style.keepSize() ? old.length : now.length;
        byte[] out = new byte[size];
        for (int page = 0; page < size; page += PAGE) {
            int len = Math.min(PAGE, size - page);
            boolean differs = !Arrays.equals(old, Math.min(page, old.length), Math.min(page + len, old.length),
                    now, Math.min(page, now.length), Math.min(page + len, now.length))
                    || Math.min(page + len, old.length) - Math.min(page, old.length) != len
                    || Math.min(page + len, now.length) - Math.min(page, now.length) != len;
            if (!differs) {
                copy(old, out, page, len);
                continue;
            }
            double r = rnd.nextDouble();
            if (r < style.tearPage()) {
                counts[2]++;
                for (int s = page; s < page + len; s += SECTOR) {
                    copy(rnd.nextBoolean() ? now : old, out, s, Math.min(SECTOR, page + len - s));
                }
            } else if (r < style.tearPage() + (1 - style.tearPage()) * style.keepPage()) {
                counts[0]++;
                copy(now, out, page, len);
            } else {
                counts[1]++;
                copy(old, out, page, len);
            }
        }
        return out;
    }

    /** Copies {@code [at, at+len)} of {@code from} into {@code to}; bytes past {@code from}'s end are zero. */
    private static void copy(byte[] from, byte[] to, int at, int len) {
        int n = Math.max(0, Math.min(len, from.length - at));
        if (n > 0) {
            System.arraycopy(from, at, to, at, n);
        }
        Arrays.fill(to, at + n, at + len, (byte) 0);
    }
}
