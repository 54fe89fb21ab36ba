package io.ringstore.cli;

/**
 * Process exit codes, distinct so that systemd can stop a restart loop on the ones a restart
 * cannot fix ({@code RestartPreventExitStatus=}).
 */
public final class ExitCodes {
    public static final int OK = 0;
    /** verify found corruption. */
    public static final int CORRUPTION_FOUND = 1;
    /** Bad command line or configuration: restarting will not help. */
    public static final int USAGE = 2;
    /** The data folder is locked by another running store. */
    public static final int LOCKED = 3;
    /** The log is damaged before its tail; needs a person (--repair). */
    public static final int CORRUPT_LOG = 4;
    /** An I/O error at start-up (may be transient). */
    public static final int IO_ERROR = 5;

    private ExitCodes() {}
}
