package io.ringstore.bench;

import io.ringstore.cli.Args;
import io.ringstore.cli.ExitCodes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tinylog.configuration.Configuration;

/**
 * {@code ringstore bench}: the store against SQLite, the naive design and the storage itself. Progress and the store's log
 * lines go to stderr; the report (table, or JSON with {@code --json}) is all that goes to stdout.
 */
public final class BenchCommand {
    /** Set in the child JVM that {@code --pi} starts, so it runs the bench instead of starting another. */
    private static final String PI_CHILD = "ringstore.bench.pi-child";

    private BenchCommand() {}

    public static int run(String[] args) {
        boolean splitter = Arrays.asList(args).contains("--splitter");
        if (Arrays.asList(args).contains("--replica-failover")) {
            return runFailover(args);
        }
        if (Arrays.asList(args).contains("--group-failover")) {
            return runGroupFailover(args);
        }
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(splitter ? SplitterBenchOptions.USAGE : BenchOptions.USAGE);
            return ExitCodes.OK;
        }
        if (splitter) {
            return runSplitter(args);
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (Args.UsageException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(BenchOptions.USAGE);
            return ExitCodes.USAGE;
        }
        if (options.pi() && !Boolean.getBoolean(PI_CHILD)) {
            return runConstrained(args);
        }
        logToStderr();
        BenchReport report;
        try {
            report = new BenchRunner(options, System.err).run();
        } catch (IOException e) {
            System.err.println("bench: storage failure: " + e);
            return ExitCodes.IO_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("bench: interrupted");
            return ExitCodes.IO_ERROR;
        }
        if (options.json()) {
            JsonReport.print(report, System.out);
        } else {
            TablePrinter.print(report, System.out);
        }
        System.out.flush();
        return ExitCodes.OK;
    }

    /**
     * {@code --pi}: the whole bench again in a child JVM with a small board's constraints (one
     * CPU, 64 MiB heap; see {@link JavaChild}), its output passed through. The daemon it starts
     * inherits the CPU mask and gets the same JVM limits.
     */
    private static int runConstrained(String[] args) {
        List<String> rest = new ArrayList<>(List.of("bench"));
        rest.addAll(Arrays.asList(args));
        List<String> cmd = JavaChild.command(true, List.of("-D" + PI_CHILD + "=true"), "io.ringstore.cli.Main", rest);
        System.err.println("bench --pi: " + JavaChild.piDescription() + ": " + String.join(" ", cmd));
        try {
            return new ProcessBuilder(cmd).inheritIO().start().waitFor();
        } catch (IOException e) {
            System.err.println("bench: cannot start the constrained JVM: " + e);
            return ExitCodes.IO_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.IO_ERROR;
        }
    }

    /** A failover bench: built from the arguments, then run; its result is what it prints. */
    @FunctionalInterface
    private interface FailoverBench {
        void run(String[] args) throws Args.UsageException, IOException, InterruptedException;
    }

    /** {@code bench --group-failover}: issue 16's automatic failover timing and throughput around it. */
    private static int runGroupFailover(String[] args) {
        return runFailoverBench(args, GroupFailoverBench.USAGE,
                a -> new GroupFailoverBench(a, System.out, System.err).run());
    }

    /** {@code bench --replica-failover}: issue 15's promote timing and standby catch-up rate. */
    private static int runFailover(String[] args) {
        return runFailoverBench(args, ReplicaFailoverBench.USAGE,
                a -> new ReplicaFailoverBench(a, System.out, System.err).run());
    }

    /** Help, usage errors and exit codes, the same for both failover benches. */
    private static int runFailoverBench(String[] args, String usage, FailoverBench bench) {
        if (Arrays.asList(args).contains("--help")) {
            System.out.print(usage);
            return ExitCodes.OK;
        }
        logToStderr();
        try {
            bench.run(args);
            System.out.flush();
            return ExitCodes.OK;
        } catch (Args.UsageException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(usage);
            return ExitCodes.USAGE;
        } catch (IOException e) {
            System.err.println("bench: " + e);
            return ExitCodes.IO_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.IO_ERROR;
        }
    }

    /** {@code bench --splitter}: issue 3's measurements of the lazy splitter. */
    private static int runSplitter(String[] args) {
        SplitterBenchOptions options;
        try {
            options = SplitterBenchOptions.parse(args);
        } catch (Args.UsageException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(SplitterBenchOptions.USAGE);
            return ExitCodes.USAGE;
        }
        logToStderr();
        SplitterReport report;
        try {
            report = new SplitterBench(options, System.err).run();
        } catch (IOException e) {
            System.err.println("bench: storage failure: " + e);
            return ExitCodes.IO_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("bench: interrupted");
            return ExitCodes.IO_ERROR;
        }
        SplitterTablePrinter.print(report, System.out);
        System.out.flush();
        return ExitCodes.OK;
    }

    /** The daemon logs to stdout for journald; here stdout is the report, so the store's lines go to stderr. */
    private static void logToStderr() {
        if (Configuration.isFrozen()) {
            return; // logging already in use (e.g. inside a test run); leave it as it is
        }
        Configuration.replace(Map.of("writer", "console", "writer.stream", "err", "writer.level", "info",
                "writer.format", "{level}: {message}", "writingthread", "false"));
    }
}
