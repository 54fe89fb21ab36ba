package io.ringstore.cli;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * Where a command reads and writes: the process's streams in {@link Main}, captured ones in tests.
 *
 * @param in  standard input
 * @param out standard output (JSON lines)
 * @param err standard error (messages for people)
 * @param env environment lookup (for {@code RINGSTORE_SOCKET})
 */
record Console(InputStream in, PrintStream out, PrintStream err, java.util.function.Function<String, String> env) {
    static Console system() {
        return new Console(System.in, new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                java.nio.charset.StandardCharsets.UTF_8), System.err, System::getenv);
    }
}
