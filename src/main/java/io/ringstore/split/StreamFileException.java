package io.ringstore.split;

import java.io.IOException;
import java.nio.file.Path;

/** A stream file whose bytes cannot be what the splitter wrote. */
public final class StreamFileException extends IOException {
    public StreamFileException(Path file, long offset, String problem) {
        super("damaged stream file: file=" + file + " offset=" + offset + " problem=" + problem);
    }
}
