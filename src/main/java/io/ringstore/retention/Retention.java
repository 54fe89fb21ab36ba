package io.ringstore.retention;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamReader;
import io.ringstore.read.StreamSlice;
import io.ringstore.read.StreamVisibility;
import io.ringstore.writer.AppendGate;
import io.ringstore.writer.AppendRequest;
import io.ringstore.writer.MetadataChange;
import io.ringstore.writer.StreamTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.tinylog.Logger;

/**
 * Each stream's retention limits as readers, the writer and the compactor see them: the
 * stream's own metadata (see {@link StreamMetadata}), else the longest configured name prefix
 * that matches. Only streams with metadata of their own have an entry here; a stream covered by
 * a prefix or by nothing costs no memory.
 *
 * <p>The own-limits map changes only on the writer thread ({@link MetadataChange#applied()}
 * runs there, before the change is acknowledged); readers and the compactor read it from any
 * thread.
 */
public final class Retention implements StreamVisibility, AppendGate {
    private final Map<String, StreamLimits> own = new ConcurrentHashMap<>();
    private final List<RetentionOptions.Prefix> prefixes;
    private final DiskBudget budget;

    public Retention(RetentionOptions options, DiskBudget budget) {
        this.prefixes = options.prefixes();
        this.budget = budget;
    }

    public DiskBudget budget() {
        return budget;
    }

    /**
     * Loads every stream's own metadata at start: the last event of each metadata stream the
     * table knows. Call before the writer starts.
     */
    public void load(StreamTable.Snapshot table, StreamReader reader) {
        List<String> metadataStreams = new ArrayList<>();
        table.forEach((stream, version, position) -> {
            if (StreamMetadata.isMetadataStream(stream)) {
                metadataStreams.add(stream);
            }
        });
        for (String m : metadataStreams) {
            String stream = StreamMetadata.streamOf(m);
            try {
                StreamSlice last = reader.read(m, -1, 1, Direction.BACKWARD);
                if (last.events().isEmpty()) {
                    continue;
                }
                LogRecord event = last.events().getFirst();
                StreamLimits limits = StreamMetadata.decode(event);
                if (!limits.isNone()) {
                    own.put(stream, limits);
                }
            } catch (Exception e) {
                // Fail open: a stream whose metadata cannot be read keeps all its data visible
                // rather than hiding (or losing) events by a limit nobody can see.
                Logger.error("stream metadata unreadable, the stream has no limits until set again: stream={} error={}",
                        stream, e.toString());
            }
        }
        if (!own.isEmpty()) {
            Logger.info("retention: {} stream(s) with limits of their own, {} prefix rule(s)", own.size(), prefixes.size());
        }
    }

    /** The limits that apply to {@code stream}, or null when none do. */
    public StreamLimits effective(String stream) {
        if (StreamMetadata.isMetadataStream(stream)) {
            return null; // metadata streams keep their history (they are tiny)
        }
        StreamLimits mine = own.get(stream);
        StreamLimits byPrefix = prefixFor(stream);
        if (mine == null) {
            return byPrefix;
        }
        return mine.over(byPrefix);
    }

    /** The stream's own limits (metadata), or null. */
    public StreamLimits own(String stream) {
        return own.get(stream);
    }

    private StreamLimits prefixFor(String stream) {
        for (RetentionOptions.Prefix p : prefixes) { // longest first
            if (stream.startsWith(p.prefix())) {
                return p.limits();
            }
        }
        return null;
    }

    public boolean hasPrefixes() {
        return !prefixes.isEmpty();
    }

    /** Whether any configured prefix covers {@code stream}. */
    public boolean coveredByPrefix(String stream) {
        return !StreamMetadata.isMetadataStream(stream) && prefixFor(stream) != null;
    }

    /** Streams with limits of their own (a copy). */
    public List<String> streamsWithOwnLimits() {
        return new ArrayList<>(own.keySet());
    }

    // ------------------------------------------------------------------ StreamVisibility (readers)

    @Override
    public boolean deleted(String stream) {
        StreamLimits l = own.get(stream);
        return l != null && l.tombstone();
    }

    @Override
    public long firstVisible(String stream, long lastVersion) {
        StreamLimits l = effective(stream);
        return l == null ? 0 : l.firstVisible(lastVersion);
    }

    @Override
    public long minTimestampMicros(String stream, long nowMicros) {
        StreamLimits l = effective(stream);
        return l == null ? Long.MIN_VALUE : l.minTimestampMicros(nowMicros);
    }

    // ------------------------------------------------------------------ AppendGate (writer)

    @Override
    public RingStoreException refuse(String stream) {
        if (deleted(stream)) {
            return new RingStoreException(ErrorCode.STREAM_DELETED, "stream deleted: stream=" + stream);
        }
        if (budget != null && budget.refusing()) {
            return new RingStoreException(ErrorCode.STORAGE_FULL, storageFullMessage());
        }
        return null;
    }

    /**
     * What a refused append is told (and the journal, when refusing starts): where usage stands,
     * when appends resume, and, since with no limits retention can free only the log's second
     * copy of split events, what the operator can do.
     */
    String storageFullMessage() {
        boolean limits = !own.isEmpty() || !prefixes.isEmpty();
        return "storage full: over the disk budget, " + budget.describe() + "; appends resume when used+unsplit is under "
                + "resume_below; " + (limits
                ? "retention is removing events past the streams' limits"
                : "no stream has retention limits, so retention cannot free space")
                + "; to make room, set limits with `ringstore limits` or remove streams with `ringstore delete` "
                + "(or give the store more space)";
    }

    @Override
    public RingStoreException refuseChange(String stream) {
        // Limits and deletes are allowed over the budget: they are how an operator frees space.
        return deleted(stream)
                ? new RingStoreException(ErrorCode.STREAM_DELETED, "stream deleted: stream=" + stream) : null;
    }

    @Override
    public boolean storageFull() {
        return budget != null && budget.refusing();
    }

    // ------------------------------------------------------------------ changes (through the writer)

    /**
     * Sets {@code stream}'s limits (replacing its earlier ones). {@code truncate_before} only
     * moves up: a lower or absent one keeps the current value, so setting a count never undoes
     * a soft delete.
     */
    public AppendRequest setLimits(String stream, StreamLimits limits) {
        checkName(stream);
        if (limits.tombstone()) {
            throw RingStoreException.invalid("use a hard delete to set a tombstone: stream=" + stream);
        }
        return change(stream, (current, version) -> new StreamLimits(limits.maxCount(), limits.maxAgeSeconds(),
                Math.max(current.truncateBefore(), limits.truncateBefore()), false));
    }

    /** Soft delete: hides every version written so far; the stream may be written again, versions go on. */
    public AppendRequest softDelete(String stream, io.ringstore.writer.ExpectedVersion expected) {
        checkName(stream);
        return change(stream, (current, version) -> {
            checkExpected(stream, expected, version);
            if (version < 0) {
                throw new RingStoreException(ErrorCode.STREAM_NOT_FOUND, "stream not found: stream=" + stream);
            }
            return new StreamLimits(current.maxCount(), current.maxAgeSeconds(), version + 1, false);
        });
    }

    /** Hard delete: a tombstone; the stream's data is removed and every later append gets STREAM_DELETED. */
    public AppendRequest hardDelete(String stream, io.ringstore.writer.ExpectedVersion expected) {
        checkName(stream);
        return change(stream, (current, version) -> {
            checkExpected(stream, expected, version);
            return new StreamLimits(StreamLimits.UNSET, StreamLimits.UNSET, version + 1, true);
        });
    }

    /** On the writer thread, against the version the delete would act on: nothing is written on a mismatch. */
    private static void checkExpected(String stream, io.ringstore.writer.ExpectedVersion expected, long version) {
        if (!expected.matches(version)) {
            throw new io.ringstore.error.WrongExpectedVersionException(stream, expected.toString(), version);
        }
    }

    private static void checkName(String stream) {
        if (stream == null || stream.isEmpty()) {
            throw RingStoreException.invalid("stream name must not be empty");
        }
        if (stream.startsWith("$")) {
            throw RingStoreException.invalid("stream names starting with '$' are reserved: stream=" + stream);
        }
        if (stream.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + StreamMetadata.PREFIX.length() > AppendRequest.MAX_STREAM_NAME_BYTES) {
            throw RingStoreException.invalid("stream name too long for metadata: stream=" + stream);
        }
    }

    private interface Next {
        StreamLimits next(StreamLimits current, long targetVersion);
    }

    private AppendRequest change(String stream, Next next) {
        return AppendRequest.metadata(StreamMetadata.metadataStreamOf(stream), StreamMetadata.TYPE, new MetadataChange() {
            private StreamLimits before;
            private StreamLimits after;

            @Override
            public String target() {
                return stream;
            }

            @Override
            public byte[] data(long targetVersion) {
                before = own.get(stream);
                after = next.next(before == null ? StreamLimits.NONE : before, targetVersion);
                return StreamMetadata.encode(after);
            }

            @Override
            public void applied() {
                set(after);
                Logger.info("stream limits changed: stream={} limits={}", stream, after);
            }

            @Override
            public void undone() {
                set(before);
            }

            private void set(StreamLimits l) {
                if (l == null || l.isNone()) {
                    own.remove(stream);
                } else {
                    own.put(stream, l);
                }
            }
        });
    }

    /**
     * A standby's writer thread fed a record shipped from the primary: when it is a metadata
     * event, its limits (or deletion) now apply here, as {@link MetadataChange#applied()} made
     * them apply on the primary; so reads on the standby, and appends once it is promoted, obey
     * them.
     */
    public void shipped(LogRecord record) {
        if (!StreamMetadata.isMetadataStream(record.getStream())) {
            return;
        }
        String stream = StreamMetadata.streamOf(record.getStream());
        try {
            StreamLimits limits = StreamMetadata.decode(record);
            if (limits == null || limits.isNone()) {
                own.remove(stream);
            } else {
                own.put(stream, limits);
            }
        } catch (Exception e) {
            // Fail open, as at load: the stream keeps its data visible until its limits are set again.
            Logger.error("shipped stream metadata unreadable, the stream has no limits until set again: stream={} error={}",
                    stream, e.toString());
        }
    }
}
