package io.ringstore.status;

import java.io.PrintStream;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Map;
import org.tinylog.Level;
import org.tinylog.core.LogEntry;
import org.tinylog.core.LogEntryValue;
import org.tinylog.writers.Writer;

/**
 * A tinylog writer for standard output under systemd: each line starts with the syslog priority
 * ({@code <3>} error, {@code <4>} warning, {@code <6>} info, {@code <7>} debug/trace) so that
 * journald files it at the right level and {@code journalctl -p warning} works. No timestamp:
 * journald adds its own. Stack traces follow on indented lines of the same priority.
 */
public final class JournalWriter implements Writer {
    // System.out, not fd 1 directly: under a test runner that captures output this still works.
    private final PrintStream out = System.out;

    public JournalWriter(Map<String, String> properties) {
        // No options.
    }

    static int priority(Level level) {
        return switch (level) {
            case ERROR -> 3;
            case WARN -> 4;
            case INFO -> 6;
            default -> 7;
        };
    }

    @Override
    public Collection<LogEntryValue> getRequiredLogEntryValues() {
        return EnumSet.of(LogEntryValue.LEVEL, LogEntryValue.MESSAGE, LogEntryValue.EXCEPTION);
    }

    @Override
    public void write(LogEntry entry) {
        String prefix = "<" + priority(entry.getLevel()) + ">";
        StringBuilder sb = new StringBuilder(128).append(prefix);
        if (entry.getLevel() == Level.WARN || entry.getLevel() == Level.ERROR) {
            sb.append(entry.getLevel().name()).append(": ");
        }
        sb.append(entry.getMessage() == null ? "" : entry.getMessage());
        Throwable t = entry.getException();
        while (t != null) {
            sb.append('\n').append(prefix).append("  ").append(t);
            for (StackTraceElement e : t.getStackTrace()) {
                sb.append('\n').append(prefix).append("    at ").append(e);
            }
            t = t.getCause();
            if (t != null) {
                sb.append('\n').append(prefix).append("  caused by:");
            }
        }
        synchronized (out) {
            out.println(sb);
            out.flush();
        }
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
