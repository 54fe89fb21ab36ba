package io.ringstore.tools;

import io.ringstore.cli.Args;
import io.ringstore.cli.ExitCodes;
import io.ringstore.log.LogVerifier;
import io.ringstore.store.DataDirLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** {@code ringstore verify --data DIR}: checks every frame of a stopped store; exit 1 on corruption. */
public final class VerifyCommand {
    private VerifyCommand() {}

    public static int run(String[] args) {
        Path data;
        try {
            Args a = Args.parse(args, Set.of("--data"), Set.of());
            if (!a.has("--data")) {
                throw new Args.UsageException("--data DIR is required");
            }
            data = Path.of(a.get("--data", null));
        } catch (Args.UsageException e) {
            System.err.println("verify: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Path logDir = data.resolve("log");
        if (!Files.isDirectory(logDir)) {
            System.err.println("verify: no main log in " + data + " (expected folder " + logDir + ")");
            return ExitCodes.USAGE;
        }
        try (DataDirLock lock = DataDirLock.acquire(data)) {
            LogVerifier.Report r = LogVerifier.verify(logDir, record -> { });
            System.out.printf("segments=%d records=%d streams=%d end=%d%n", r.segments(), r.records(), r.streams(), r.end());
            if (r.tornTail() != null) {
                System.out.println("torn tail: " + r.tornTail());
            }
            for (String p : r.problems()) {
                System.out.println("CORRUPT " + p);
            }
            System.out.println(r.corrupt() ? "result: CORRUPT" : "result: ok");
            return r.corrupt() ? ExitCodes.CORRUPTION_FOUND : ExitCodes.OK;
        } catch (DataDirLock.LockedException e) {
            System.err.println("verify: " + e.getMessage() + "; stop the store first");
            return ExitCodes.LOCKED;
        } catch (IOException e) {
            System.err.println("verify: " + e);
            return ExitCodes.IO_ERROR;
        }
    }
}
