package io.ringstore.bench;

/** {@code ringstore bench}: placeholder until the benchmark lands. */
public final class BenchCommand {
    private BenchCommand() {}

    public static int run(String[] args) {
        System.err.println("bench: not built yet");
        return 2;
    }
}
