package io.ringstore.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

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
 */
final class SqliteTarget implements AppendTarget, StreamSource {
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

    private final Connection writeConnection;
    private final Connection readConnection;
    private final PreparedStatement insert;
    private final PreparedStatement read;
    private final int maxBatch;
    private final ArrayBlockingQueue<Request> queue;
    private final Thread thread;
    private final String version;
    private volatile boolean stopping;

    // Writer-thread state.
    private final List<Request> batch = new ArrayList<>();
    private long[] commitMicros = new long[4096];

    // Published counters.
    private volatile long batches;
    private volatile long events;
    private volatile long commits;
    private volatile IOException failure;

    private record Request(String stream, byte[] payload, CompletableFuture<Void> done) {}

    private SqliteTarget(SqliteDriver driver, Path file, int queueCapacity, int maxBatch) throws SQLException {
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
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.thread = Thread.ofPlatform().name("bench-sqlite-writer").unstarted(this::run);
    }

    /** Creates the database {@code file} (WAL, synchronous=FULL, the schema) and starts the writer thread. */
    static SqliteTarget open(SqliteDriver driver, Path file, int queueCapacity, int maxBatch) throws IOException {
        try {
            SqliteTarget t = new SqliteTarget(driver, file, queueCapacity, maxBatch);
            t.thread.start();
            return t;
        } catch (SQLException e) {
            throw new IOException("cannot open SQLite: file=" + file + " error=" + e, e);
        }
    }

    /** SQLite's and the driver's versions. */
    String version() {
        return version;
    }

    @Override
    public String label() {
        return "sqlite";
    }

    @Override
    public CompletableFuture<?> append(String stream, byte[] payload) {
        Request r = new Request(stream, payload, new CompletableFuture<>());
        if (stopping) {
            r.done.completeExceptionally(new IllegalStateException("sqlite target stopped"));
            return r.done;
        }
        try {
            queue.put(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.done.completeExceptionally(e);
        }
        return r.done;
    }

    private void run() {
        try {
            while (true) {
                Request first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                writeBatch();
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            List<Request> rest = new ArrayList<>();
            queue.drainTo(rest);
            rest.forEach(r -> r.done.completeExceptionally(new IllegalStateException("sqlite target stopped")));
        }
    }

    /** One transaction: insert each append, commit once (the WAL fsync), then acknowledge. */
    private void writeBatch() {
        List<Request> inserted = new ArrayList<>(batch.size());
        byte[] id = new byte[16];
        try {
            for (Request r : batch) {
                ThreadLocalRandom.current().nextBytes(id);
                insert.setString(1, r.stream);
                insert.setString(2, r.stream);
                insert.setString(3, Workload.EVENT_TYPE);
                insert.setBytes(4, id);
                insert.setLong(5, System.currentTimeMillis() * 1000);
                insert.setBytes(6, r.payload);
                try {
                    insert.executeUpdate();
                    inserted.add(r);
                } catch (SQLException e) {
                    if (e.getErrorCode() != 19) { // SQLITE_CONSTRAINT fails this append alone
                        throw e;
                    }
                    r.done.completeExceptionally(e);
                }
            }
            long start = System.nanoTime();
            writeConnection.commit();
            recordCommit((System.nanoTime() - start) / 1_000);
        } catch (SQLException e) {
            failure = new IOException("SQLite batch failed: " + e, e);
            try {
                writeConnection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            batch.forEach(r -> r.done.completeExceptionally(e));
            return;
        }
        inserted.forEach(r -> r.done.complete(null));
        events += inserted.size();
        batches++;
    }

    private void recordCommit(long micros) {
        int n = (int) commits;
        if (n == commitMicros.length) {
            commitMicros = Arrays.copyOf(commitMicros, n * 2);
        }
        commitMicros[n] = micros;
        commits = n + 1;
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

    /** Commit latencies stand for force latencies. Call after {@link #close()} for exact percentiles. */
    @Override
    public BatchStats stats() {
        long n = commits;
        long[] sorted = thread.isAlive() ? new long[0] : Arrays.copyOf(commitMicros, (int) n);
        Arrays.sort(sorted);
        return new BatchStats(batches, events, n, 0, Percentiles.of(sorted, 0.50), Percentiles.of(sorted, 0.99),
                thread.isAlive() ? "n/a while running" : "all commits");
    }

    /** Stops the writer, then closes both connections (the last close checkpoints the WAL into the database). */
    @Override
    public void close() throws IOException {
        stopping = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            read.close();
            readConnection.close();
            insert.close();
            writeConnection.close();
        } catch (SQLException e) {
            throw new IOException("closing SQLite failed: " + e, e);
        }
        if (failure != null) {
            throw failure;
        }
    }
}
