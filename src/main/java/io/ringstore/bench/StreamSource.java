package io.ringstore.bench;

import java.io.IOException;

/** A target that can read a whole stream back (rebuilding an aggregate), for the read latencies. */
interface StreamSource {

    /**
     * Reads every event of {@code stream} from version 0 to its end and returns how many there
     * were; throws {@link IllegalStateException} when the versions read are not 0, 1, 2, ... in order.
     */
    int readWhole(String stream) throws IOException;

    /** Checks that the {@code index}-th event read has version {@code index}. */
    static void checkVersion(String stream, int index, long version) {
        if (version != index) {
            throw new IllegalStateException("stream=" + stream + " version=" + version + " at index=" + index);
        }
    }
}
