package io.ringstore.replication;

import java.io.IOException;

/**
 * A connection between boards was refused during the handshake: this board did not accept the
 * other's certificate, or the other did not accept this one (or dropped the connection in the
 * middle of the handshake, which is how a refusal often arrives). Until an operator fixes the
 * keys or the configuration retrying will not help, so shipping should report it (status,
 * journal) and retry with a long backoff rather than spin.
 */
public final class PeerRefusedException extends IOException {
    private final String reason;

    public PeerRefusedException(String message, String reason, Throwable cause) {
        super(message + ": " + reason, cause);
        this.reason = reason;
    }

    /** Why, without the address: e.g. "certificate expired on 2026-12-03T07:49:37Z". */
    public String reason() {
        return reason;
    }
}
