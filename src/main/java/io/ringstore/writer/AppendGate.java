package io.ringstore.writer;

import io.ringstore.error.RingStoreException;

/**
 * What the writer asks before it writes an append (retention: tombstones, the disk budget).
 * Called on the writer thread only; must not block.
 */
public interface AppendGate {
    AppendGate OPEN = new AppendGate() {
        @Override
        public RingStoreException refuse(String stream) {
            return null;
        }

        @Override
        public RingStoreException refuseChange(String stream) {
            return null;
        }

        @Override
        public boolean storageFull() {
            return false;
        }
    };

    /** Why an append of events to {@code stream} must be refused, or null to let it through. */
    RingStoreException refuse(String stream);

    /** Why a metadata change of {@code stream} must be refused, or null. */
    RingStoreException refuseChange(String stream);

    /** Whether appends are being refused for lack of space (status, fault LED). */
    boolean storageFull();
}
