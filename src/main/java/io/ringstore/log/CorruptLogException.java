package io.ringstore.log;

import java.nio.file.Path;

/**
 * Damage found in the main log where it cannot be a torn tail: acknowledged history is at stake,
 * so the store refuses to open (or a reader refuses to return it) rather than silently cut it.
 */
public final class CorruptLogException extends RuntimeException {
    private final Path file;
    private final long offset;

    public CorruptLogException(Path file, long offset, String problem) {
        super("corrupt main log: file=" + file + " offset=" + offset + " problem=" + problem);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
