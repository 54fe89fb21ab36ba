package io.ringstore.bench;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;

/**
 * Finds the SQLite JDBC driver ({@code org.xerial:sqlite-jdbc}) at run time. It is not in the
 * daemon's jar: it carries native libraries for some twenty platforms (about 13 MB, four times
 * the daemon jar) that an SD card has no use for. Where it is looked for, in order:
 * <ol>
 * <li>{@code --sqlite-jar FILE};</li>
 * <li>the class path (the tests, or {@code java -cp ringstore.jar:sqlite-jdbc.jar});</li>
 * <li>{@code bench-lib/sqlite-jdbc-*.jar} next to the running jar ({@code mvn package} puts
 *     3.50.3.0 in {@code target/bench-lib/});</li>
 * <li>{@code /usr/share/java/sqlite-jdbc.jar} (Debian's {@code libxerial-sqlite-jdbc-java}).</li>
 * </ol>
 * The driver is used directly (not through DriverManager, which refuses drivers from another
 * class loader).
 */
final class SqliteDriver {
    static final String URL_PREFIX = "jdbc:sqlite:";
    private static final Path DEBIAN_JAR = Path.of("/usr/share/java/sqlite-jdbc.jar");

    private final Driver driver;
    private final String source;

    private SqliteDriver(Driver driver, String source) {
        this.driver = driver;
        this.source = source;
    }

    /** Where the driver came from, for the report. */
    String source() {
        return source;
    }

    Connection connect(Path database) throws SQLException {
        Connection c = driver.connect(URL_PREFIX + database, new Properties());
        if (c == null) {
            throw new SQLException("driver refused url=" + URL_PREFIX + database);
        }
        return c;
    }

    /**
     * The driver, loaded and working, or an {@link IOException} saying everywhere it was looked
     * for or why it does not work.
     *
     * @param explicitJar {@code --sqlite-jar}, or null
     */
    static SqliteDriver find(Path explicitJar) throws IOException {
        SqliteDriver d = locate(explicitJar);
        // The driver extracts its native library to java.io.tmpdir on first use; where that folder
        // does not exist (a test run's), it fails with "no native library found".
        if (System.getProperty("org.sqlite.tmpdir") == null) {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        }
        // Load it now, before any device window opens (the extraction writes about a MiB).
        try (Connection c = d.driver.connect(URL_PREFIX + ":memory:", new Properties())) {
            if (c == null) {
                throw new IOException("the SQLite driver from " + d.source + " refused an in-memory database");
            }
        } catch (SQLException e) {
            throw new IOException("the SQLite driver from " + d.source + " does not work here: " + e, e);
        }
        return d;
    }

    private static SqliteDriver locate(Path explicitJar) throws IOException {
        List<String> looked = new ArrayList<>();
        if (explicitJar != null) {
            SqliteDriver d = fromJar(explicitJar);
            if (d == null) {
                throw new IOException("no SQLite JDBC driver in --sqlite-jar " + explicitJar);
            }
            return d;
        }
        SqliteDriver d = load(SqliteDriver.class.getClassLoader(), "class path");
        if (d != null) {
            return d;
        }
        looked.add("the class path");
        for (Path jar : besideRunningJar()) {
            d = fromJar(jar);
            if (d != null) {
                return d;
            }
            looked.add(jar.toString());
        }
        if (Files.isRegularFile(DEBIAN_JAR)) {
            d = fromJar(DEBIAN_JAR);
            if (d != null) {
                return d;
            }
        }
        looked.add(DEBIAN_JAR.toString());
        throw new IOException("no SQLite JDBC driver found (looked in " + String.join(", ", looked)
                + "); give --sqlite-jar FILE (org.xerial:sqlite-jdbc), or apt install libxerial-sqlite-jdbc-java");
    }

    private static SqliteDriver fromJar(Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            return null;
        }
        URL url = jar.toUri().toURL();
        return load(new URLClassLoader(new URL[] {url}, SqliteDriver.class.getClassLoader()), jar.toString());
    }

    private static SqliteDriver load(ClassLoader loader, String source) {
        for (Driver d : ServiceLoader.load(Driver.class, loader)) {
            try {
                if (d.acceptsURL(URL_PREFIX + ":memory:")) {
                    return new SqliteDriver(d, source);
                }
            } catch (SQLException e) {
                // not this one
            }
        }
        return null;
    }

    /** {@code bench-lib/sqlite-jdbc-*.jar} in the folder of the jar this class was loaded from. */
    private static List<Path> besideRunningJar() {
        List<Path> out = new ArrayList<>();
        try {
            Path self = Path.of(SqliteDriver.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path lib = self.toAbsolutePath().getParent().resolve("bench-lib");
            if (Files.isDirectory(lib)) {
                try (DirectoryStream<Path> jars = Files.newDirectoryStream(lib, "sqlite-jdbc-*.jar")) {
                    jars.forEach(out::add);
                }
            }
        } catch (Exception e) {
            // No code source (or not a file): nothing beside it to find.
        }
        out.sort(null);
        return out.reversed(); // the newest version first
    }
}
