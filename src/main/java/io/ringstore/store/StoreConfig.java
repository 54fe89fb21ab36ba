package io.ringstore.store;

import io.ringstore.log.FileStorageIo;
import io.ringstore.log.StorageIo;
import io.ringstore.retention.RetentionOptions;
import io.ringstore.split.PressureGauge;
import io.ringstore.split.SplitterOptions;
import io.ringstore.split.SystemPressureGauge;
import io.ringstore.writer.Durability;
import io.ringstore.writer.WriterOptions;
import java.nio.file.Path;

/**
 * Everything a store is opened with; validated once, here.
 *
 * @param dataDir     the data folder (holds {@code log/}, {@code checkpoint/} and the lock)
 * @param segmentSize bytes per main-log segment file
 * @param repair      cut the log at damage instead of refusing to open
 * @param writer      writer behaviour
 * @param io          the storage layer (tests inject faults here)
 * @param splitter    splitter behaviour
 * @param pressure    where the splitter reads pressure; null for the real gauges (PSI + writer)
 * @param retention   prefix limits and the disk budget
 * @param psiFile     where the real gauge reads I/O pressure ({@link SystemPressureGauge#PSI_IO}; tests
 *                    point it elsewhere so that other processes on the machine do not pause their splitter)
 */
public record StoreConfig(Path dataDir, long segmentSize, boolean repair, WriterOptions writer, StorageIo io,
                          SplitterOptions splitter, PressureGauge pressure, RetentionOptions retention, Path psiFile) {
    /** 64 MiB: a few seconds of heavy ingest on a Pi, small enough to allocate without a stall. */
    public static final long DEFAULT_SEGMENT_SIZE = 64L << 20;
    public static final long MIN_SEGMENT_SIZE = 64L << 10;
    public static final long MAX_SEGMENT_SIZE = 1L << 30;

    public StoreConfig {
        if (dataDir == null) {
            throw new IllegalArgumentException("data folder must be set");
        }
        if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE || segmentSize % 4096 != 0) {
            throw new IllegalArgumentException("segment size must be a multiple of 4096 between "
                    + MIN_SEGMENT_SIZE + " and " + MAX_SEGMENT_SIZE + ": " + segmentSize);
        }
        if (writer == null || io == null || splitter == null || retention == null || psiFile == null) {
            throw new IllegalArgumentException("writer, splitter and retention options, storage io and the PSI file must be set");
        }
    }

    public static StoreConfig defaults(Path dataDir) {
        return new StoreConfig(dataDir, DEFAULT_SEGMENT_SIZE, false, WriterOptions.defaults(), new FileStorageIo(),
                SplitterOptions.defaults(), null, RetentionOptions.defaults(),
                SystemPressureGauge.PSI_IO);
    }

    public StoreConfig withSegmentSize(long bytes) {
        return new StoreConfig(dataDir, bytes, repair, writer, io, splitter, pressure, retention, psiFile);
    }

    public StoreConfig withRepair(boolean r) {
        return new StoreConfig(dataDir, segmentSize, r, writer, io, splitter, pressure, retention, psiFile);
    }

    public StoreConfig withWriter(WriterOptions w) {
        return new StoreConfig(dataDir, segmentSize, repair, w, io, splitter, pressure, retention, psiFile);
    }

    public StoreConfig withDurability(Durability d) {
        return withWriter(writer.withDurability(d));
    }

    /** The ack mode (and its timeout) for this store; see {@link io.ringstore.writer.AckOptions}. */
    public StoreConfig withAck(io.ringstore.writer.AckOptions ack) {
        return withWriter(writer.withAck(ack));
    }

    public StoreConfig withAckMode(io.ringstore.replication.AckMode mode) {
        return withAck(new io.ringstore.writer.AckOptions(mode, writer.ack().timeoutMillis(), writer.ack().maxWaitingBatches()));
    }

    public io.ringstore.replication.AckMode ackMode() {
        return writer.ack().mode();
    }

    public StoreConfig withIo(StorageIo storageIo) {
        return new StoreConfig(dataDir, segmentSize, repair, writer, storageIo, splitter, pressure, retention, psiFile);
    }

    public StoreConfig withSplitter(SplitterOptions s) {
        return new StoreConfig(dataDir, segmentSize, repair, writer, io, s, pressure, retention, psiFile);
    }

    public StoreConfig withPressureGauge(PressureGauge gauge) {
        return new StoreConfig(dataDir, segmentSize, repair, writer, io, splitter, gauge, retention, psiFile);
    }

    public StoreConfig withRetention(RetentionOptions r) {
        return new StoreConfig(dataDir, segmentSize, repair, writer, io, splitter, pressure, r, psiFile);
    }

    public StoreConfig withPsiFile(Path file) {
        return new StoreConfig(dataDir, segmentSize, repair, writer, io, splitter, pressure, retention, file);
    }

    public Path streamsDir() {
        return dataDir.resolve("streams");
    }

    public Path logDir() {
        return dataDir.resolve("log");
    }

    public Path checkpointDir() {
        return dataDir.resolve("checkpoint");
    }
}
