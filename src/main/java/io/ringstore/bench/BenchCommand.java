package io.ringstore.bench;

import io.ringstore.cli.Args;
import io.ringstore.cli.ExitCodes;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.tinylog.configuration.Configuration;

/**
 * {@code ringstore bench}: the store against the storage itself. Progress and the store's log
 * lines go to stderr; the report (table, or JSON with {@code --json}) is all that goes to stdout.
 */
public final class BenchCommand {
    private BenchCommand() {}

    public static int run(String[] args) {
        boolean splitter = Arrays.asList(args).contains("--splitter");
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
