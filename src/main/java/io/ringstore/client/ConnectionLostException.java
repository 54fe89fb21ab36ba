package io.ringstore.client;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The connection to the daemon failed or was closed; requests in flight may or may not have been applied. */
public final class ConnectionLostException extends UncheckedIOException {
    public ConnectionLostException(String message, IOException cause) {
        super(message, cause != null ? cause : new IOException(message));
    }
}
