package io.ringstore.nativeio;

import java.io.IOException;

/** The filesystem has no room for what was asked (ENOSPC, EDQUOT, or a zero-fill that hit a full disk). */
public class NoSpaceException extends IOException {
    public NoSpaceException(String message) {
        super(message);
    }

    public NoSpaceException(String message, Throwable cause) {
        super(message, cause);
    }
}
