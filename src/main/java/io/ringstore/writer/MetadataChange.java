package io.ringstore.writer;

/**
 * A change of a stream's metadata (limits, deletion), appended by the writer as one event to the
 * stream's metadata stream. The event's data is computed on the writer thread, because it may
 * depend on the stream's current version (a soft delete hides everything up to it).
 */
public interface MetadataChange {
    /** The stream whose metadata changes. */
    String target();

    /**
     * Writer thread, before writing: the event data, given the target's last written version
     * (-1: never written).
     *
     * @throws io.ringstore.error.RingStoreException to refuse the change (nothing is written)
     */
    byte[] data(long targetVersion);

    /** Writer thread: the event is in the log (not yet forced); readers must obey it from now on. */
    void applied();

    /** Writer thread: the force failed and the event was discarded; undo {@link #applied()}. */
    void undone();
}
