package io.ringstore.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the Python client's unittest suite ({@code src/test/python}) against real daemons: child
 * JVMs of this build's classes, which the Python tests start, stop and make close connections.
 * The package is built as python3-ringstore builds it ({@code src/main/python/build.sh}:
 * {@code ringstore_pb2} generated from ringstore.proto by protoc) into target/python-test.
 *
 * <p>Needs python3 with Debian's python3-protobuf and protoc (protobuf-compiler); without them
 * the test is skipped, saying so, unless {@code RINGSTORE_REQUIRE_PYTHON=1} (set by .ci/run,
 * which installs them), where a skip would hide a client nobody tested.
 */
class PythonClientTest {
    private static final Path TESTS = Path.of("src/test/python");
    private static final Path BUILD = Path.of("src/main/python/build.sh");
    private static final Path OUT = Path.of("target/python-test");

    @Test
    void thePythonClientSuitePassesAgainstARealDaemon() throws Exception {
        String python = python();
        requireTool(python != null, "no python3 that can import google.protobuf (apt-get install python3-protobuf)");
        requireTool(run(List.of("sh", "-c", "command -v protoc"), Map.of(), 10).code() == 0,
                "no protoc (apt-get install protobuf-compiler)");

        Result built = run(List.of("sh", BUILD.toString(), OUT.toString()), Map.of(), 60);
        assertEquals(0, built.code(), "build.sh failed:\n" + built.output());

        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> serve = List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp",
                System.getProperty("java.class.path"), "io.ringstore.cli.Main", "serve");
        Result suite = run(List.of(python, "-m", "unittest", "discover", "-v", "-s", TESTS.toString()),
                Map.of("PYTHONPATH", OUT.toAbsolutePath().toString(), "RINGSTORE_SERVE_CMD", json(serve),
                        "PYTHONDONTWRITEBYTECODE", "1"), 150);
        System.out.println(suite.output());
        assertEquals(0, suite.code(), "the Python client's tests failed:\n" + suite.output());
        Matcher ran = Pattern.compile("Ran (\\d+) tests").matcher(suite.output());
        assertTrue(ran.find(), suite.output());
        assertTrue(Integer.parseInt(ran.group(1)) >= 17, "fewer Python tests ran than written:\n" + suite.output());
        assertTrue(!suite.output().contains("skipped"), "a Python test was skipped:\n" + suite.output());
    }

    private static void requireTool(boolean present, String why) {
        if (present) {
            return;
        }
        if ("1".equals(System.getenv("RINGSTORE_REQUIRE_PYTHON"))) {
            throw new AssertionError("RINGSTORE_REQUIRE_PYTHON=1 but " + why);
        }
        Assumptions.abort("SKIPPED: the Python client's tests: " + why);
    }

    /** Debian's python3 first: python3-protobuf is installed for it, not for a pyenv or venv one. */
    private static String python() throws Exception {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            if (candidate.startsWith("/") && !Files.isExecutable(Path.of(candidate))) {
                continue;
            }
            if (run(List.of(candidate, "-c", "import google.protobuf"), Map.of(), 30).code() == 0) {
                return candidate;
            }
        }
        return null;
    }

    private record Result(int code, String output) {}

    private static Result run(List<String> cmd, Map<String, String> env, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(127, e.toString());
        }
        // Read on another thread so a full pipe cannot stall the child.
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append("(output lost: ").append(e).append(')');
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            // The suite's daemons are its children: end them with it.
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            reader.join(5_000);
            return new Result(-1, "timed out after " + seconds + " s: " + cmd + "\n" + out);
        }
        reader.join(10_000);
        return new Result(p.exitValue(), out.toString());
    }

    private static String json(List<String> items) {
        List<String> quoted = new ArrayList<>();
        for (String s : items) {
            quoted.add('"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"');
        }
        return "[" + String.join(",", quoted) + "]";
    }
}
