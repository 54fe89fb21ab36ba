package io.ringstore.cli;

/**
 * Process exit codes, distinct so that systemd can stop a restart loop on the ones a restart
 * cannot fix ({@code RestartPreventExitStatus=}) and shell scripts can tell failures apart.
 */
public final class ExitCodes {
    public static final int OK = 0;
    /** verify found corruption. */
    public static final int CORRUPTION_FOUND = 1;
    /** Bad command line or configuration: restarting will not help. */
    public static final int USAGE = 2;
    /** The data folder (or the socket) is held by another running store. */
    public static final int LOCKED = 3;
    /** The log is damaged before its tail; needs a person (--repair). */
    public static final int CORRUPT_LOG = 4;
    /** An I/O error at start-up (may be transient). */
    public static final int IO_ERROR = 5;
    /** A client command could not reach the daemon (no socket, nobody listening, no permission), or lost it. */
    public static final int CANNOT_CONNECT = 6;
    /** The stream does not exist. */
    public static final int NOT_FOUND = 7;
    /** An append's expected version did not hold. */
    public static final int WRONG_EXPECTED_VERSION = 8;
    /** Input the command or the daemon cannot use: a bad JSON line, a missing field, an invalid request. */
    public static final int BAD_INPUT = 9;
    /** The daemon denied this user. */
    public static final int ACCESS_DENIED = 10;
    /** The daemon refused for another typed reason (storage full, overloaded, shutting down, too slow...). */
    public static final int REFUSED = 11;

    private ExitCodes() {}
}
