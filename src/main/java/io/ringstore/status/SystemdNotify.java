package io.ringstore.status;

import io.ringstore.nativeio.Posix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.tinylog.Logger;

/**
 * sd_notify without libsystemd: datagrams to {@code $NOTIFY_SOCKET} through FFM. Does nothing
 * when the variable is absent (not started by systemd with {@code Type=notify}).
 */
public final class SystemdNotify {
    private final String socket;
    private final long watchdogMicros;
    private boolean warned;

    private SystemdNotify(String socket, long watchdogMicros) {
        this.socket = socket;
        this.watchdogMicros = watchdogMicros;
    }

    public static SystemdNotify fromEnvironment() {
        String socket = System.getenv("NOTIFY_SOCKET");
        long watchdog = 0;
        String usec = System.getenv("WATCHDOG_USEC");
        String pid = System.getenv("WATCHDOG_PID");
        if (usec != null && (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid())))) {
            try {
                watchdog = Long.parseLong(usec.trim());
            } catch (NumberFormatException e) {
                watchdog = 0;
            }
        }
        return new SystemdNotify(socket == null || socket.isEmpty() ? null : socket, watchdog);
    }

    /** For tests: a notifier sending to {@code socket}. */
    public static SystemdNotify to(String socket, long watchdogMicros) {
        return new SystemdNotify(socket, watchdogMicros);
    }

    public boolean enabled() {
        return socket != null;
    }

    /** The watchdog interval systemd asked for, in microseconds, or 0 when there is none. */
    public long watchdogMicros() {
        return socket == null ? 0 : watchdogMicros;
    }

    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    public void stopping() {
        send("STOPPING=1");
    }

    public void watchdog() {
        send("WATCHDOG=1");
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ');
    }

    private synchronized void send(String message) {
        if (socket == null) {
            return;
        }
        try {
            Posix.sendDatagram(socket, message.getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                Logger.warn("sd_notify to {} failed: {}", socket, e.toString());
            }
        }
    }
}
