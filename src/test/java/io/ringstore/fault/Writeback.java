package io.ringstore.fault;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a failed sync does on Linux, page by page, for {@link FaultInjectingIo}.
 *
 * <p>A failed {@code fsync}/{@code msync}/{@code syncfs} may have written some of the dirty pages
 * and not others; the kernel then marks them all clean and reports the error once, so the next
 * sync succeeds without writing the lost ones. The page cache keeps showing the new bytes until
 * the pages are evicted (or the power is cut); then the card's old bytes come back. Here the
 * failed sync moves every page dirtied since the last good sync of that file to a "lost" set
 * (the worst case of "some may have reached the disk"), holding the bytes the card has for it;
 * {@link #evict} puts those bytes back into the file, as a read after eviction would see them.
 * A page written again after the loss is dirty again and reaches the disk with the next good
 * sync. Bytes past the size the card holds come back as zeros (the size was logged, the data
 * never written: the worst case for a reader).
 *
 * <p>Tracks writes made through {@link FaultInjectingIo} only (its channels and mapping writes).
 * Thread-safe through the owning {@link FaultInjectingIo}'s lock.
 */
final class Writeback {
    static final int PAGE = 4096;

    /** One file's (or mapping's) pages: page index to the bytes the card holds for it. */
    private static final class Pages {
        final TreeMap<Long, byte[]> dirty = new TreeMap<>();
        final TreeMap<Long, byte[]> lost = new TreeMap<>();
        MemorySegment mapping; // for mappings only
        Path mappedFile; // for mappings only: where the pages go once the mapping is gone
    }

    private final Map<Path, Pages> files = new HashMap<>();
    private final Map<MemorySegment, Pages> mappings = new IdentityHashMap<>();
    private long lostPages;

    private static Path key(Path file) {
        return file.toAbsolutePath().normalize();
    }

    /** Before {@code [offset, offset + length)} of {@code file} (now {@code size} bytes, read through {@code ch}) is written. */
    void beforeFileWrite(Path file, FileChannel ch, long offset, long length) throws IOException {
        Pages p = files.computeIfAbsent(key(file), k -> new Pages());
        long size = ch.size();
        for (long page = offset / PAGE; page * PAGE < offset + length; page++) {
            if (p.dirty.containsKey(page)) {
                continue;
            }
            byte[] onCard = p.lost.remove(page);
            if (onCard == null) {
                onCard = new byte[PAGE];
                long at = page * PAGE;
                if (at < size) {
                    // What the page holds now is on the card (it is clean). The store's channel
                    // may be write-only: read through one of our own.
                    try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
                        ByteBuffer b = ByteBuffer.wrap(onCard, 0, (int) Math.min(PAGE, size - at));
                        while (b.hasRemaining() && reader.read(b, at + b.position()) >= 0) {
                            // until the page is read
                        }
                    }
                }
            }
            p.dirty.put(page, onCard);
        }
    }

    /** A truncation to {@code size}: pages past it are gone; the page holding the new end is dirtied. */
    void beforeTruncate(Path file, FileChannel ch, long size) throws IOException {
        if (size % PAGE != 0 && size < ch.size()) {
            beforeFileWrite(file, ch, size, 1);
        }
        Pages p = files.get(key(file));
        if (p != null) {
            long firstGone = (size + PAGE - 1) / PAGE;
            p.dirty.tailMap(firstGone).clear();
            p.lost.tailMap(firstGone).clear();
        }
    }

    /** A good sync of {@code file}: its dirty pages are on the card. */
    void synced(Path file) {
        Pages p = files.get(key(file));
        if (p != null) {
            p.dirty.clear();
        }
    }

    /** A failed sync of {@code file}: its dirty pages are lost (and marked clean). */
    void failed(Path file) {
        Pages p = files.get(key(file));
        if (p != null) {
            lose(p);
        }
    }

    /** A good syncfs: every dirty file page is on the card (mappings are not synced by syncfs here). */
    void syncedAll() {
        files.values().forEach(p -> p.dirty.clear());
    }

    /** A failed syncfs: every dirty file page is lost. */
    void failedAll() {
        files.values().forEach(this::lose);
    }

    private void lose(Pages p) {
        lostPages += p.dirty.size();
        p.lost.putAll(p.dirty);
        p.dirty.clear();
    }

    void renamed(Path from, Path to) {
        Pages p = files.remove(key(from));
        if (p != null) {
            files.put(key(to), p);
        } else {
            files.remove(key(to));
        }
    }

    void deleted(Path file) {
        files.remove(key(file));
    }

    /** A whole file written and forced ({@code writeFile}): nothing of it is dirty or lost. */
    void replaced(Path file) {
        files.remove(key(file));
    }

    /** {@code mapping} maps {@code file} from offset 0. */
    void mapped(MemorySegment mapping, Path file) {
        Pages p = mappings.computeIfAbsent(mapping, k -> new Pages());
        p.mapping = mapping;
        p.mappedFile = key(file);
    }

    void beforeMappingWrite(MemorySegment mapping, long offset, long length) {
        Pages p = mappings.computeIfAbsent(mapping, k -> new Pages());
        p.mapping = mapping;
        for (long page = offset / PAGE; page * PAGE < offset + length; page++) {
            if (p.dirty.containsKey(page)) {
                continue;
            }
            byte[] onCard = p.lost.remove(page);
            if (onCard == null) {
                long at = page * PAGE;
                onCard = mapping.asSlice(at, Math.min(PAGE, mapping.byteSize() - at)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
            p.dirty.put(page, onCard);
        }
    }

    /** A good ({@code failed == false}) or failed msync of {@code [offset, offset + length)}. */
    void mappingForced(MemorySegment mapping, long offset, long length, boolean failed) {
        Pages p = mappings.get(mapping);
        if (p == null) {
            return;
        }
        Map<Long, byte[]> range = p.dirty.subMap(offset / PAGE, true, (offset + length - 1) / PAGE, true);
        if (failed) {
            lostPages += range.size();
            p.lost.putAll(range);
        }
        range.clear();
    }

    /** Pages lost by failed syncs since construction. */
    long lostPages() {
        return lostPages;
    }

    /**
     * The lost pages are evicted from the page cache: reads see what the card holds. Returns the
     * number of pages put back.
     */
    int evict() throws IOException {
        int n = 0;
        for (Map.Entry<Path, Pages> e : files.entrySet()) {
            Pages p = e.getValue();
            if (p.lost.isEmpty()) {
                continue;
            }
            try (FileChannel ch = FileChannel.open(e.getKey(), StandardOpenOption.WRITE)) {
                long size = ch.size();
                for (Iterator<Map.Entry<Long, byte[]>> it = p.lost.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<Long, byte[]> page = it.next();
                    long at = page.getKey() * PAGE;
                    if (at < size) {
                        ByteBuffer b = ByteBuffer.wrap(page.getValue(), 0, (int) Math.min(PAGE, size - at));
                        while (b.hasRemaining()) {
                            ch.write(b, at + b.position());
                        }
                        n++;
                    }
                    it.remove();
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                p.lost.clear();
            }
        }
        for (Iterator<Pages> pages = mappings.values().iterator(); pages.hasNext(); ) {
            Pages p = pages.next();
            if (p.mapping.scope().isAlive()) {
                for (Map.Entry<Long, byte[]> page : p.lost.entrySet()) {
                    MemorySegment.copy(MemorySegment.ofArray(page.getValue()), 0, p.mapping, page.getKey() * PAGE,
                            page.getValue().length);
                    n++;
                }
                p.lost.clear();
                continue;
            }
            // Unmapped (the store closed): the pages go back into the file, if it is still there.
            if (!p.lost.isEmpty() && p.mappedFile != null && java.nio.file.Files.exists(p.mappedFile)) {
                try (FileChannel ch = FileChannel.open(p.mappedFile, StandardOpenOption.WRITE)) {
                    for (Map.Entry<Long, byte[]> page : p.lost.entrySet()) {
                        ByteBuffer b = ByteBuffer.wrap(page.getValue());
                        while (b.hasRemaining()) {
                            ch.write(b, page.getKey() * PAGE + b.position());
                        }
                        n++;
                    }
                }
            }
            pages.remove();
        }
        return n;
    }
}
