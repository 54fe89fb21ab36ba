package io.ringstore.consensus;

import java.io.IOException;

/**
 * The group could not answer: no leader known, no majority reachable, or the request timed out.
 * Nothing is known about a proposal that failed this way: it may still commit later (a caller
 * re-reads the state, and the changes' preconditions make a retry safe).
 */
public final class GroupUnavailableException extends IOException {
    public GroupUnavailableException(String message) {
        super(message);
    }

    public GroupUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
