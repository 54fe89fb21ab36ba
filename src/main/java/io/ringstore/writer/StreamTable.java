package io.ringstore.writer;

import java.util.Arrays;
import java.util.concurrent.locks.StampedLock;

/**
 * The writer's table of streams: name -> last written version and the log position of that
 * version. Only the writer thread changes it, so it is exact. Other threads ask through
 * {@link #versionFromAnyThread} (an optimistic read under a {@link StampedLock}, so the writer
 * pays two uncontended CAS per update) or work on {@link #snapshot() snapshots}.
 *
 * <p>Compact on purpose (100,000 streams must fit a 64 MiB heap with room to spare): open
 * addressing over three parallel arrays, no entry objects. A slot costs a reference and two
 * longs, plus the name string itself.
 */
public final class StreamTable {
    private static final int INITIAL_CAPACITY = 1024;
    private static final double MAX_LOAD = 0.7;

    private String[] names;
    private long[] versions;
    private long[] positions;
    private int size;
    private final StampedLock lock = new StampedLock();

    public StreamTable() {
        allocate(INITIAL_CAPACITY);
    }

    private void allocate(int capacity) {
        names = new String[capacity];
        versions = new long[capacity];
        positions = new long[capacity];
    }

    public int size() {
        return size;
    }

    /** Last version of {@code stream}, or -1 if it has never been written. */
    public long version(String stream) {
        int slot = find(stream);
        return slot < 0 ? -1 : versions[slot];
    }

    /** Log position of the last event of {@code stream}, or -1. */
    public long lastPosition(String stream) {
        int slot = find(stream);
        return slot < 0 ? -1 : positions[slot];
    }

    /**
     * Last written version of {@code stream} (-1 if never written), from any thread. It may be
     * ahead of what is acknowledged: the writer updates the table before its force.
     */
    public long versionFromAnyThread(String stream) {
        long stamp = lock.tryOptimisticRead();
        long v;
        try {
            v = version(stream);
        } catch (RuntimeException torn) {
            v = -1; // arrays swapped under us; validate() below fails and we retry under the lock
        }
        if (lock.validate(stamp)) {
            return v;
        }
        stamp = lock.readLock();
        try {
            return version(stream);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Records that {@code stream} is now at {@code version}, its last event at {@code position}. */
    public void put(String stream, long version, long position) {
        long stamp = lock.writeLock();
        try {
            if (size + 1 > names.length * MAX_LOAD) {
                grow();
            }
            int slot = slotFor(stream, names);
            if (names[slot] == null) {
                names[slot] = stream;
                size++;
            }
            versions[slot] = version;
            positions[slot] = position;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * Removes {@code stream} (used only to undo an append whose force failed, when the stream
     * did not exist before it). Backward-shift deletion keeps probe chains intact.
     */
    public void remove(String stream) {
        long stamp = lock.writeLock();
        try {
            removeLocked(stream);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private void removeLocked(String stream) {
        int slot = find(stream);
        if (slot < 0) {
            return;
        }
        int mask = names.length - 1;
        int hole = slot;
        int i = (hole + 1) & mask;
        while (names[i] != null) {
            int home = spread(names[i].hashCode()) & mask;
            boolean movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
            if (movable) {
                names[hole] = names[i];
                versions[hole] = versions[i];
                positions[hole] = positions[i];
                hole = i;
            }
            i = (i + 1) & mask;
        }
        names[hole] = null;
        versions[hole] = 0;
        positions[hole] = 0;
        size--;
    }

    private int find(String stream) {
        int mask = names.length - 1;
        for (int i = spread(stream.hashCode()) & mask; ; i = (i + 1) & mask) {
            String n = names[i];
            if (n == null) {
                return -1;
            }
            if (n.equals(stream)) {
                return i;
            }
        }
    }

    private static int slotFor(String stream, String[] names) {
        int mask = names.length - 1;
        for (int i = spread(stream.hashCode()) & mask; ; i = (i + 1) & mask) {
            String n = names[i];
            if (n == null || n.equals(stream)) {
                return i;
            }
        }
    }

    private static int spread(int h) {
        return (h ^ (h >>> 16)) * 0x9E3779B1;
    }

    private void grow() {
        String[] oldNames = names;
        long[] oldVersions = versions;
        long[] oldPositions = positions;
        allocate(oldNames.length * 2);
        for (int i = 0; i < oldNames.length; i++) {
            if (oldNames[i] != null) {
                int slot = slotFor(oldNames[i], names);
                names[slot] = oldNames[i];
                versions[slot] = oldVersions[i];
                positions[slot] = oldPositions[i];
            }
        }
    }

    /**
     * The stream names, from any thread: a copy of the name slots (null where empty) taken under
     * the read lock, so the writer waits for one array copy (about 1 MiB at 100,000 streams) and
     * no versions or positions are copied. Retention's compactor walks it.
     */
    public String[] namesFromAnyThread() {
        long stamp = lock.readLock();
        try {
            return Arrays.copyOf(names, names.length);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** An immutable copy, cheap enough to take on the writer thread (array copies only). */
    public Snapshot snapshot() {
        return new Snapshot(Arrays.copyOf(names, names.length), Arrays.copyOf(versions, versions.length),
                Arrays.copyOf(positions, positions.length), size);
    }

    /** A frozen copy of the table. */
    public static final class Snapshot {
        private final String[] names;
        private final long[] versions;
        private final long[] positions;
        private final int size;

        Snapshot(String[] names, long[] versions, long[] positions, int size) {
            this.names = names;
            this.versions = versions;
            this.positions = positions;
            this.size = size;
        }

        public int size() {
            return size;
        }

        /** Calls {@code consumer} with each stream, its version and its last position. */
        public void forEach(EntryConsumer consumer) {
            for (int i = 0; i < names.length; i++) {
                if (names[i] != null) {
                    consumer.accept(names[i], versions[i], positions[i]);
                }
            }
        }
    }

    /** Receives one table entry. */
    @FunctionalInterface
    public interface EntryConsumer {
        void accept(String stream, long version, long position);
    }

}
