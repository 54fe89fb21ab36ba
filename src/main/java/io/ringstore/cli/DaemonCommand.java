package io.ringstore.cli;

import io.ringstore.client.ConnectionLostException;
import io.ringstore.client.RingStoreClient;
import io.ringstore.error.RingStoreException;
import io.ringstore.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;

/** What every command that talks to the daemon shares: finding the socket, connecting, exit codes. */
final class DaemonCommand {
    static final String SOCKET_ENV = "RINGSTORE_SOCKET";

    private DaemonCommand() {}

    /** {@code --socket}, else {@code $RINGSTORE_SOCKET}, else the service's default path. */
    static Path socket(Args a, Console console) {
        String s = a.get("--socket", null);
        if (s == null) {
            s = console.env().apply(SOCKET_ENV);
        }
        return Path.of(s == null || s.isEmpty() ? ServerConfig.DEFAULT_SOCKET.toString() : s);
    }

    /** Connects, or says why not on standard error and returns null. */
    static RingStoreClient connect(String command, Path socket, Console console) {
        try {
            return RingStoreClient.connect(socket);
        } catch (IOException | RuntimeException e) {
            console.err().println(command + ": cannot connect to the daemon: socket=" + socket + " error=" + e
                    + " (is `ringstore serve` running, and may this user open the socket?)");
            return null;
        }
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The exit code for a failure. */
    static int exitCode(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof ConnectionLostException) {
            return ExitCodes.CANNOT_CONNECT;
        }
        if (e instanceof RingStoreException r) {
            return switch (r.code()) {
                case STREAM_NOT_FOUND -> ExitCodes.NOT_FOUND;
                case WRONG_EXPECTED_VERSION -> ExitCodes.WRONG_EXPECTED_VERSION;
                case INVALID_REQUEST, FRAME_TOO_LARGE -> ExitCodes.BAD_INPUT;
                case ACCESS_DENIED -> ExitCodes.ACCESS_DENIED;
                default -> ExitCodes.REFUSED;
            };
        }
        return ExitCodes.REFUSED;
    }

    /** The typed name of a failure, as acknowledgement lines carry it. */
    static String errorName(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof RingStoreException r) {
            return r.code().name();
        }
        if (e instanceof ConnectionLostException) {
            return "CONNECTION_LOST";
        }
        return e.getClass().getSimpleName();
    }

    static String message(Throwable t) {
        Throwable e = unwrap(t);
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
