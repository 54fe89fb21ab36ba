package io.ringstore.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * SQLite as an event store, the way a careful Pi developer would use it: WAL mode,
 * {@code synchronous=FULL} (a commit is durable when it returns), one writer thread that drains
 * a queue of appends and commits one transaction per drained batch (group commit, same queue
 * capacity and batch limit as the store's writer), and the table below, whose
 * {@code UNIQUE(stream, version)} index both finds a stream's next version and refuses a second
 * writer's conflicting append. Each row holds what a store record holds (stream, version, type,
 * a 16-byte event id, a timestamp, the payload); the rowid is the global position. One append
 * that fails (a constraint) fails alone; a failed commit fails its whole batch. Reads use a
 * connection of their own (WAL readers do not block the writer). Everything else is SQLite's
 * default (page size, cache, automatic checkpoint every 1000 pages; closing checkpoints the rest).
 * Commit latencies stand for force latencies in the stats.
 */
final class SqliteTarget extends QueuedBatchTarget implements StreamSource {
    static final String SCHEMA = """
            CREATE TABLE events (
              position    INTEGER PRIMARY KEY,
              stream      TEXT    NOT NULL,
              version     INTEGER NOT NULL,
              type        TEXT    NOT NULL,
              event_id    BLOB    NOT NULL,
              time_micros INTEGER NOT NULL,
              data        BLOB    NOT NULL,
              UNIQUE (stream, version))""";
    /** Expected version "any": the next version is the stream's highest + 1, found through the unique index. */
    static final String INSERT = "INSERT INTO events (stream, version, type, event_id, time_micros, data) "
            + "VALUES (?, (SELECT COALESCE(MAX(version), -1) + 1 FROM events WHERE stream = ?), ?, ?, ?, ?)";
    static final String READ = "SELECT version FROM events WHERE stream = ? ORDER BY version";

    /** SQLITE_CONSTRAINT: the append conflicts (UNIQUE(stream, version)); it fails alone. */
    private static final int SQLITE_CONSTRAINT = 19;

    private final Connection writeConnection;
    private final Connection readConnection;
    private final PreparedStatement insert;
    private final PreparedStatement read;
    private final String version;
    private final byte[] eventId = new byte[16];

    private SqliteTarget(SqliteDriver driver, Path file, int queueCapacity, int maxBatch) throws SQLException {
        super("sqlite", queueCapacity, maxBatch);
        writeConnection = driver.connect(file);
        try (Statement s = writeConnection.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=FULL");
            s.execute(SCHEMA);
        }
        writeConnection.setAutoCommit(false);
        insert = writeConnection.prepareStatement(INSERT);
        readConnection = driver.connect(file);
        read = readConnection.prepareStatement(READ);
        try (Statement s = readConnection.createStatement();
             ResultSet r = s.executeQuery("SELECT sqlite_version()")) {
            version = "SQLite " + (r.next() ? r.getString(1) : "?") + " via "
                    + writeConnection.getMetaData().getDriverName() + " " + writeConnection.getMetaData().getDriverVersion();
        }
    }

    /** Creates the database {@code file} (WAL, synchronous=FULL, the schema) and starts the writer thread. */
    static SqliteTarget open(SqliteDriver driver, Path file, int queueCapacity, int maxBatch) throws IOException {
        try {
            SqliteTarget t = new SqliteTarget(driver, file, queueCapacity, maxBatch);
            t.start();
            return t;
        } catch (SQLException e) {
            throw new IOException("cannot open SQLite: file=" + file + " error=" + e, e);
        }
    }

    /** SQLite's and the driver's versions. */
    String version() {
        return version;
    }

    /** One transaction: insert each append, commit once (the WAL fsync); the caller acknowledges. */
    @Override
    List<Request> writeBatch(List<Request> batch) throws IOException {
        List<Request> inserted = new ArrayList<>(batch.size());
        try {
            for (Request r : batch) {
                ThreadLocalRandom.current().nextBytes(eventId);
                insert.setString(1, r.stream());
                insert.setString(2, r.stream());
                insert.setString(3, Workload.EVENT_TYPE);
                insert.setBytes(4, eventId);
                insert.setLong(5, System.currentTimeMillis() * 1000);
                insert.setBytes(6, r.payload());
                try {
                    insert.executeUpdate();
                    inserted.add(r);
                } catch (SQLException e) {
                    if (e.getErrorCode() != SQLITE_CONSTRAINT) {
                        throw e;
                    }
                    r.done().completeExceptionally(e);
                }
            }
            long start = System.nanoTime();
            writeConnection.commit();
            recordForce((System.nanoTime() - start) / 1_000);
        } catch (SQLException e) {
            try {
                writeConnection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw new IOException("SQLite batch failed: " + e, e);
        }
        return inserted;
    }

    /** Not known: SQLite's pages, WAL frames and index entries are what the device bytes show. */
    @Override
    long frameBytesPerEvent() {
        return 0;
    }

    /** Reads one stream with the read connection (one reader thread at a time). */
    @Override
    public synchronized int readWhole(String stream) throws IOException {
        int n = 0;
        try {
            read.setString(1, stream);
            try (ResultSet r = read.executeQuery()) {
                while (r.next()) {
                    StreamSource.checkVersion(stream, n++, r.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IOException("SQLite read failed: stream=" + stream + " error=" + e, e);
        }
        return n;
    }

    /**
     * Checkpoints the WAL into the database (PASSIVE: it copies what no reader holds; none reads
     * here), so that a device window that starts afterwards holds none of the warm-up's pages.
     */
    @Override
    public synchronized long settle(long timeoutMillis, long stallMillis, PrintStream log, long progressMillis)
            throws IOException {
        try (Statement s = readConnection.createStatement()) {
            s.execute("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (SQLException e) {
            throw new IOException("SQLite checkpoint failed: " + e, e);
        }
        return 0;
    }

    /** Closes both connections once the writer has stopped (the last close checkpoints the WAL into the database). */
    @Override
    void closeResources() throws IOException {
        try {
            read.close();
            readConnection.close();
            insert.close();
            writeConnection.close();
        } catch (SQLException e) {
            throw new IOException("closing SQLite failed: " + e, e);
        }
    }
}
