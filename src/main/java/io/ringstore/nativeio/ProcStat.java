package io.ringstore.nativeio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One line of {@code /proc/PID/stat} or {@code /proc/PID/task/TID/stat} (proc(5)): the name in
 * parentheses (which may itself hold spaces and parentheses, hence the last ')'), then the
 * numbered fields from 3 (state) on.
 *
 * @param comm   field 2: the kernel's name for the process or thread (the first 15 characters)
 * @param fields fields 3 onwards: {@code fields[0]} is field 3
 */
public record ProcStat(String comm, String[] fields) {
    /** User-mode CPU time in clock ticks (field 14). */
    public long userTicks() {
        return Long.parseLong(fields[11]);
    }

    /** Kernel-mode CPU time in clock ticks (field 15). */
    public long systemTicks() {
        return Long.parseLong(fields[12]);
    }

    /** The nice value (field 19). */
    public int nice() {
        return Integer.parseInt(fields[16]);
    }

    /** Reads and parses {@code file}. */
    public static ProcStat read(Path file) throws IOException {
        String stat = Files.readString(file);
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || close + 2 > stat.length()) {
            throw new IOException("unexpected " + file + ": " + stat);
        }
        return new ProcStat(stat.substring(open + 1, close), stat.substring(close + 2).strip().split(" "));
    }
}
