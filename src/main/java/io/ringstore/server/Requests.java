package io.ringstore.server;

import io.ringstore.error.ErrorCode;
import io.ringstore.error.InvalidDetail;
import io.ringstore.error.RingStoreException;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.AppendResponse;
import io.ringstore.protocol.v1.Event;
import io.ringstore.protocol.v1.NewEvent;
import io.ringstore.protocol.v1.PingResponse;
import io.ringstore.protocol.v1.ReadAllRequest;
import io.ringstore.protocol.v1.ReadAllResponse;
import io.ringstore.protocol.v1.ReadStreamRequest;
import io.ringstore.protocol.v1.ReadStreamResponse;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.protocol.v1.UnsubscribeResponse;
import io.ringstore.read.AllSlice;
import io.ringstore.log.RecordFields;
import io.ringstore.protocol.StreamAnswer;
import io.ringstore.read.Direction;
import io.ringstore.read.StreamReader;
import io.ringstore.read.StreamSlice;
import io.ringstore.store.RingStore;
import io.ringstore.store.StoreStatus;
import io.ringstore.writer.AppendResult;
import io.ringstore.writer.EventData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.tinylog.Logger;

/**
 * Turns requests of one connection into store calls and their results into responses. Appends
 * are queued to the writer on the reading thread (so a full writer queue stops the reading:
 * backpressure, and appends of one connection keep their order) and answered when the writer
 * acknowledges them; reads run on their own virtual threads, so a long read never holds up the
 * appends pipelined behind it. Every path ends by sending exactly one response with the
 * request's release, except subscribe, whose subscription sends its confirmation with it.
 */
final class Requests {
    static final int DEFAULT_READ_COUNT = 1000;
    static final int MAX_READ_COUNT = 4096;

    private final Connection connection;
    private final RingStore store;

    Requests(Connection connection, RingStore store) {
        this.connection = connection;
        this.store = store;
    }

    void handle(Request request, Runnable release) {
        long id = request.getId();
        Request.OpCase op = request.getOpCase();
        if (op == Request.OpCase.OP_NOT_SET) {
            fail(id, release, RingStoreException.invalid(InvalidDetail.EMPTY_REQUEST,
                    "request has no operation (empty, or one this server does not know)"));
            return;
        }
        if (op != Request.OpCase.PING && connection.shuttingDown()) {
            fail(id, release, ErrorCode.SHUTTING_DOWN, "the daemon is stopping");
            return;
        }
        Access access = connection.access();
        boolean allowed = switch (op) {
            case PING -> true;
            case APPEND, MULTI_APPEND, SET_STREAM_LIMITS, DELETE_STREAM, SET_SOLO, PROMOTE -> access.canWrite();
            case STATUS -> request.getStatus().getDrainSplitter() ? access.canWrite() : access.canRead();
            default -> access.canRead();
        };
        if (!allowed) {
            connection.denied(op);
            Peer p = connection.peer();
            fail(id, release, ErrorCode.ACCESS_DENIED, "access denied: op=" + op.name().toLowerCase(java.util.Locale.ROOT)
                    + " uid=" + p.uid() + " gid=" + p.gid() + " access=" + access.name().toLowerCase(java.util.Locale.ROOT));
            return;
        }
        try {
            switch (op) {
                case PING -> reply(release, Response.newBuilder().setId(id)
                        .setPing(PingResponse.newBuilder().setPayload(request.getPing().getPayload())).build());
                case APPEND -> append(id, request.getAppend(), release);
                case MULTI_APPEND -> multiAppend(id, request.getMultiAppend(), release);
                case SET_STREAM_LIMITS -> setLimits(id, request.getSetStreamLimits(), release);
                case DELETE_STREAM -> deleteStream(id, request.getDeleteStream(), release);
                case GET_STREAM_LIMITS -> reply(release, Response.newBuilder().setId(id)
                        .setGetStreamLimits(getLimits(request.getGetStreamLimits().getStream())).build());
                case READ_STREAM -> onReadThread(() -> readStream(id, request.getReadStream(), release));
                case READ_ALL -> onReadThread(() -> readAll(id, request.getReadAll(), release));
                case STATUS -> {
                    if (request.getStatus().getDrainSplitter()) {
                        store.splitter().drain();
                    }
                    reply(release, Response.newBuilder().setId(id).setStatus(status()).build());
                }
                case SUBSCRIBE -> Subscription.start(connection, store, id, request.getSubscribe(), release);
                case UNSUBSCRIBE -> unsubscribe(id, request.getUnsubscribe().getSubscriptionId(), release);
                case SET_SOLO -> setSolo(id, request.getSetSolo().getSolo(), release);
                case PROMOTE -> Thread.ofVirtual().name("ringstore-promote-" + connection.number())
                        .start(() -> promote(id, request.getPromote().getForce(), release));
                case OP_NOT_SET -> throw new IllegalStateException("handled above");
            }
        } catch (RuntimeException e) {
            fail(id, release, e);
        }
    }

    /**
     * Runs a read on this connection's thread when no other request has arrived behind it (then
     * nothing waits for it, and the answer goes out without a hand-over between threads: half
     * the latency of a short read under load, measured with the bench), else on a virtual thread
     * of its own, so that requests pipelined behind a long read are not held up by it. A request
     * that arrives while a read runs here waits until it ends (a read from a stream file in the
     * page cache takes well under a millisecond; from a cold SD card, a few).
     */
    private void onReadThread(Runnable read) {
        if (connection.dialect() == Dialect.PROTOBUF && !connection.requestsWaiting()) {
            read.run();
        } else {
            Thread.ofVirtual().name("ringstore-read-" + connection.number()).start(read);
        }
    }

    private static List<EventData> events(io.ringstore.protocol.v1.AppendRequest a) {
        List<EventData> events = new ArrayList<>(a.getEventsCount());
        for (NewEvent e : a.getEventsList()) {
            byte[] eventId = e.getEventId().isEmpty() ? null : e.getEventId().toByteArray();
            events.add(new EventData(eventId, e.getType(), e.getData().toByteArray(), e.getMetadata().toByteArray()));
        }
        return events;
    }

    /**
     * A multi-stream append: every entry is queued to the writer as one queue element (one
     * batch, usually one force); each is checked and refused on its own; the one answer goes out
     * once the last entry is acknowledged or refused, with the results in request order.
     */
    private void multiAppend(long id, io.ringstore.protocol.v1.MultiAppendRequest m, Runnable release) {
        int n = m.getAppendsCount();
        if (n == 0) {
            fail(id, release, RingStoreException.invalid("a multi-stream append needs at least one entry"));
            return;
        }
        List<io.ringstore.writer.StreamAppend> entries = new ArrayList<>(n);
        io.ringstore.protocol.v1.Error[] refused = new io.ringstore.protocol.v1.Error[n];
        for (int i = 0; i < n; i++) {
            io.ringstore.protocol.v1.AppendRequest a = m.getAppends(i);
            try {
                entries.add(new io.ringstore.writer.StreamAppend(a.getStream(), Wire.expected(a), events(a)));
            } catch (RuntimeException e) { // an expected_version out of range: this entry only
                refused[i] = wireError(e);
                entries.add(null);
            }
        }
        List<io.ringstore.writer.StreamAppend> valid = entries.stream().filter(java.util.Objects::nonNull).toList();
        List<java.util.concurrent.CompletableFuture<AppendResult>> futures = store.appendAll(valid);
        io.ringstore.protocol.v1.MultiAppendResult[] results = new io.ringstore.protocol.v1.MultiAppendResult[n];
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(n);
        Runnable oneDone = () -> {
            if (left.decrementAndGet() == 0) { // the last one's thread answers (the writer's, mostly)
                io.ringstore.protocol.v1.MultiAppendResponse.Builder b =
                        io.ringstore.protocol.v1.MultiAppendResponse.newBuilder();
                for (io.ringstore.protocol.v1.MultiAppendResult r : results) {
                    b.addResults(r);
                }
                reply(release, Response.newBuilder().setId(id).setMultiAppend(b).build());
            }
        };
        int next = 0;
        for (int i = 0; i < n; i++) {
            int slot = i;
            if (refused[i] != null) {
                results[slot] = io.ringstore.protocol.v1.MultiAppendResult.newBuilder().setError(refused[i]).build();
                oneDone.run();
                continue;
            }
            futures.get(next++).whenComplete((result, error) -> {
                results[slot] = error == null
                        ? io.ringstore.protocol.v1.MultiAppendResult.newBuilder().setAppend(appendResponse(result)).build()
                        : io.ringstore.protocol.v1.MultiAppendResult.newBuilder().setError(wireError(error)).build();
                oneDone.run();
            });
        }
    }

    private void append(long id, io.ringstore.protocol.v1.AppendRequest a, Runnable release) {
        store.append(a.getStream(), Wire.expected(a), events(a)).whenComplete((result, error) -> {
            if (error != null) {
                fail(id, release, error);
            } else {
                reply(release, Response.newBuilder().setId(id).setAppend(appendResponse(result)).build());
            }
        });
    }

    private void setLimits(long id, io.ringstore.protocol.v1.SetStreamLimitsRequest r, Runnable release) {
        store.setLimits(r.getStream(), Wire.limits(r.getLimits())).whenComplete((result, error) -> {
            if (error != null) {
                fail(id, release, error);
            } else {
                reply(release, Response.newBuilder().setId(id).setSetStreamLimits(
                        io.ringstore.protocol.v1.SetStreamLimitsResponse.newBuilder().setPosition(result.lastPosition())).build());
            }
        });
    }

    private void deleteStream(long id, io.ringstore.protocol.v1.DeleteStreamRequest r, Runnable release) {
        store.deleteStream(r.getStream(), r.getHard(), Wire.expected(r)).whenComplete((result, error) -> {
            if (error != null) {
                fail(id, release, error);
            } else {
                reply(release, Response.newBuilder().setId(id).setDeleteStream(
                        io.ringstore.protocol.v1.DeleteStreamResponse.newBuilder().setPosition(result.lastPosition())).build());
            }
        });
    }

    private io.ringstore.protocol.v1.GetStreamLimitsResponse getLimits(String stream) {
        if (stream.isEmpty()) {
            throw RingStoreException.invalid("stream must not be empty");
        }
        var retention = store.retention();
        var b = io.ringstore.protocol.v1.GetStreamLimitsResponse.newBuilder().setDeleted(retention.deleted(stream));
        var own = retention.own(stream);
        if (own != null) {
            b.setOwn(Wire.limits(own));
        }
        var effective = retention.effective(stream);
        if (effective != null) {
            b.setEffective(Wire.limits(effective));
        }
        return b.build();
    }

    private AppendResponse appendResponse(AppendResult r) {
        // The epoch now is the one the append was acknowledged in: a primary's epoch changes only
        // by promotion (a standby acknowledges nothing), and a fenced primary keeps its old one.
        io.ringstore.replication.Replication replication = store.replication();
        AppendResponse.Builder b = AppendResponse.newBuilder();
        if (replication != null) {
            b.setEpoch(replication.history().currentEpoch());
        }
        return b
                .setStream(r.stream())
                .setFirstVersion(r.firstVersion())
                .setLastVersion(r.lastVersion())
                .setFirstPosition(r.firstPosition())
                .setLastPosition(r.lastPosition())
                .setDurability(Wire.durability(r.durability()))
                .setReplayed(r.replayed())
                .setAckMode(Wire.ackMode(r.ackMode()))
                .setSolo(r.solo())
                .build();
    }

    private static int count(int asked) {
        return asked <= 0 ? DEFAULT_READ_COUNT : Math.min(asked, MAX_READ_COUNT);
    }

    private void readStream(long id, ReadStreamRequest r, Runnable release) {
        try {
            Direction direction = switch (r.getDirection()) {
                case FORWARD -> Direction.FORWARD;
                case BACKWARD -> Direction.BACKWARD;
                case UNRECOGNIZED -> throw RingStoreException.invalid("unknown direction: " + r.getDirectionValue());
            };
            // Absent: the start forward, the end backward (so that a backward read that leaves it
            // unset does not read version 0 alone).
            long from = r.hasFromVersion() ? r.getFromVersion() : direction == Direction.FORWARD ? 0 : -1;
            if (from < (direction == Direction.FORWARD ? 0 : -1)) {
                throw RingStoreException.invalid("from_version out of range: " + from + " direction=" + direction);
            }
            if (r.getStream().isEmpty()) {
                throw RingStoreException.invalid("stream must not be empty");
            }
            if (direction == Direction.FORWARD && connection.dialect() == Dialect.PROTOBUF) {
                readStreamForward(id, r.getStream(), from, count(r.getMaxCount()), release);
                return;
            }
            StreamSlice slice = store.readStream(r.getStream(), from, count(r.getMaxCount()), direction);
            ReadStreamResponse.Builder b = ReadStreamResponse.newBuilder().setLastVersion(slice.lastVersion());
            long behind = store.standbyBehindBytes();
            if (behind >= 0) {
                b.setStandbyBehindBytes(behind);
            }
            int limit = connection.server().config().readPageBytes();
            long bytes = 0;
            LogRecord lastAdded = null;
            for (LogRecord record : slice.events()) {
                Event e = Wire.event(record);
                bytes += e.getSerializedSize();
                if (lastAdded != null && bytes > limit) {
                    break;
                }
                b.addEvents(e);
                lastAdded = record;
            }
            if (b.getEventsCount() < slice.events().size()) {
                long next = direction == Direction.FORWARD ? lastAdded.getVersion() + 1 : lastAdded.getVersion() - 1;
                b.setNextVersion(next).setEndOfStream(false);
            } else {
                b.setNextVersion(slice.nextVersion()).setEndOfStream(slice.endOfStream());
            }
            reply(release, Response.newBuilder().setId(id).setReadStream(b).build());
        } catch (RuntimeException e) {
            fail(id, release, e);
        }
    }

    /**
     * A forward stream read answered from the stored bytes ({@link StreamAnswer}): the same
     * answer as the general path below, field for field, page for page (the page stops before
     * the event that would take it past read_page_bytes, and always holds one), without an
     * object per event. JSON-lines connections take the general path (they format events).
     */
    private void readStreamForward(long id, String stream, long from, int count, Runnable release) {
        int limit = connection.server().config().readPageBytes();
        long behind = store.standbyBehindBytes();
        // A short stream's answer takes one small chunk; a long one 64 KiB chunks up to the page limit.
        StreamAnswer answer = new StreamAnswer(8 << 10);
        StreamReader.PageEnd end = store.readStreamForward(stream, from, count, new StreamReader.BodySink() {
            @Override
            public boolean accept(byte[] body, int offset, int length, RecordFields fields) {
                if (answer.events() > 0 && answer.eventBytes() + StreamAnswer.eventLength(fields) > limit) {
                    return false;
                }
                answer.add(body, fields);
                return true;
            }

            @Override
            public void clear() {
                answer.clear();
            }
        });
        reply(release, answer.response(id, end.lastVersion(), end.nextVersion(), end.endOfStream(), behind));
    }

    private void readAll(long id, ReadAllRequest r, Runnable release) {
        try {
            if (r.getFromPosition() < 0) {
                throw RingStoreException.invalid("from_position out of range: " + Long.toUnsignedString(r.getFromPosition()));
            }
            int max = count(r.getMaxCount());
            // Events past a stream's limits are left out; a page may then hold fewer than asked,
            // even none, and its next position still moves past what it skipped.
            AllSlice page;
            try {
                page = store.readAll(r.getFromPosition(), max);
            } catch (IllegalArgumentException e) {
                // The log says the position is not a record's start (see MainLog.read).
                throw RingStoreException.invalid(InvalidDetail.NOT_AN_EVENT_POSITION, e.getMessage());
            }
            ReadAllResponse.Builder b = ReadAllResponse.newBuilder();
            long behind = store.standbyBehindBytes();
            if (behind >= 0) {
                b.setStandbyBehindBytes(behind);
            }
            int limit = connection.server().config().readPageBytes();
            long bytes = 0;
            long next = page.next();
            for (LogRecord record : page.records()) {
                Event e = Wire.event(record);
                bytes += e.getSerializedSize();
                if (b.getEventsCount() > 0 && bytes > limit) {
                    next = record.getPosition();
                    break;
                }
                b.addEvents(e);
            }
            boolean truncated = b.getEventsCount() < page.records().size();
            b.setNextPosition(next).setEnd(!truncated && page.end());
            reply(release, Response.newBuilder().setId(id).setReadAll(b).build());
        } catch (RuntimeException e) {
            fail(id, release, e);
        }
    }

    private void promote(long id, boolean force, Runnable release) {
        try {
            io.ringstore.replication.Replication.Promoted p = store.promote(force);
            reply(release, Response.newBuilder().setId(id).setPromote(io.ringstore.protocol.v1.PromoteResponse.newBuilder()
                    .setEpoch(p.epoch()).setStartPosition(p.start()).setMessage(p.message())).build());
        } catch (java.io.IOException e) {
            fail(id, release, ErrorCode.STORAGE_ERROR, "promotion failed: " + e.getMessage());
        } catch (RuntimeException e) {
            fail(id, release, e);
        }
    }

    /** On a standby, how far its reads are behind the primary's acknowledged position; -1 elsewhere. */

    /** Role, epoch, the other boards and their positions, set-aside tails. */
    private void replicationStatus(StatusResponse.Builder b) {
        io.ringstore.replication.Replication r = store.replication();
        if (r == null) {
            return;
        }
        io.ringstore.replication.Replication.Status st = r.status();
        b.setReplicationRole(st.role() == io.ringstore.replication.Role.PRIMARY
                ? (st.acknowledging() ? "primary" : "primary-fenced") : "standby")
                .setEpoch(st.epoch())
                .setReplicationProblem(st.restartReason());
        long end = store.log().writtenPosition();
        if (st.role() == io.ringstore.replication.Role.PRIMARY) {
            for (var sb : st.standbys()) {
                b.addReplicationPeers("standby " + sb.board() + (sb.connected() ? " connected" : " disconnected")
                        + " held=" + sb.held() + " durable=" + sb.durable() + " lag_bytes=" + Math.max(0, end - sb.held())
                        + (sb.lastProblem().isEmpty() ? "" : " (" + sb.lastProblem() + ")"));
            }
        } else if (st.primary() != null) {
            var pv = st.primary();
            long lag = Math.max(0, pv.toldCommitted() - store.committedPosition());
            b.setStandbyLagBytes(lag).addReplicationPeers("primary " + pv.board() + " epoch=" + pv.epoch()
                    + (pv.connected() ? " connected" : " disconnected") + " mode=" + pv.mode().configName()
                    + " acknowledged=" + pv.toldCommitted() + " held=" + st.held() + " durable=" + st.durable()
                    + (pv.lastRefusal().isEmpty() ? "" : " refused: " + pv.lastRefusal()));
        }
        for (java.nio.file.Path p : st.diverged()) {
            b.addDivergedFiles(p.toString());
        }
    }

    private StatusResponse status() {
        StoreStatus s = store.status();
        var w = s.writer();
        var sp = s.splitter();
        StatusResponse.Builder b = StatusResponse.newBuilder()
                .setSplitterState(sp.state().name().toLowerCase(java.util.Locale.ROOT))
                .setSplitterLagEvents(sp.lagEvents())
                .setSplitterLagBytes(sp.lagBytes())
                .setSplitterLagSeconds(sp.lagSeconds())
                .setSplitterLostVersions(sp.lostVersions());
        connection.server().addStatusExtras(b);
        replicationStatus(b);
        ServerConfig c = connection.server().config();
        var writer = store.config().writer();
        b.setMaxRequestBytes(c.maxFrameBytes())
                .setMaxEventBytes(writer.maxEventBytes())
                .setMaxResponseBytes(c.maxResponseBytes())
                .setMaxInFlight(c.maxInFlight())
                .setMaxSubscriptions(c.maxSubscriptions())
                .setMaxReadCount(MAX_READ_COUNT)
                .setDefaultReadCount(DEFAULT_READ_COUNT)
                .setReadPageBytes(c.readPageBytes())
                .setIdempotencyWindowEvents(writer.idempotencyWindow());
        var budget = store.retention().budget();
        if (budget != null) {
            b.setDiskBudgetBytes(budget.budgetBytes()).setDiskUsedBytes(budget.usageBytes());
        }
        var compacted = store.compactor().stats();
        b.setRetentionFilesRewritten(compacted.filesRewritten() + compacted.filesDeleted())
                .setRetentionBytesFreed(compacted.streamBytesFreed());
        return b
                .setCommittedPosition(s.committedPosition())
                .setOldestPosition(s.oldestPosition())
                .setSegments(s.segments())
                .setSegmentRolls(s.rolls())
                .setSegmentRollsRecycled(s.rollsRecycled())
                .setStreams(s.streams())
                .setEventsAppended(w.events())
                .setBatches(w.batches())
                .setForces(w.forces())
                .setForceP50Micros(w.forceP50Micros())
                .setForceP99Micros(w.forceP99Micros())
                .setQueueDepth(w.queueDepth())
                .setStorageFull(w.storageFull())
                .setLastError(w.lastError() == null ? "" : w.lastError())
                .setConnections(connection.server().connectionCount())
                .setSubscriptions(connection.server().subscriptionCount())
                .setAccess(switch (connection.access()) {
                    case NONE -> io.ringstore.protocol.v1.Access.ACCESS_NONE;
                    case READ_ONLY -> io.ringstore.protocol.v1.Access.ACCESS_READ_ONLY;
                    case READ_WRITE -> io.ringstore.protocol.v1.Access.ACCESS_READ_WRITE;
                })
                .setDurability(Wire.durability(store.config().writer().durability()))
                .setAckMode(Wire.ackMode(s.ack().mode()))
                .setSolo(s.ack().solo())
                .setAcksWaiting(s.ack().waitingBatches())
                .setAckOldestWaitMillis(s.ack().oldestWaitMillis())
                .setAckLagReason(s.ack().lagReason())
                .setReplicaUnavailable(s.ack().replicaUnavailable())
                .setReplicaAckTimeouts(s.ack().timeouts())
                .build();
    }

    /** The operator's {@code ringstore replication solo|paired}; the store records it in the journal. */
    private void setSolo(long id, boolean solo, Runnable release) {
        if (store.config().ackMode() == io.ringstore.replication.AckMode.LOCAL) {
            fail(id, release, ErrorCode.INVALID_REQUEST, "ack_mode is local: there are no standbys to go "
                    + (solo ? "solo from" : "paired with") + " (set ack_mode in ringstore.conf)");
            return;
        }
        Peer p = connection.peer();
        boolean changed = store.setSolo(solo, "user=" + p.user() + " uid=" + p.uid() + " gid=" + p.gid());
        reply(release, Response.newBuilder().setId(id).setSetSolo(io.ringstore.protocol.v1.SetSoloResponse.newBuilder()
                .setChanged(changed).setSolo(solo).setAckMode(Wire.ackMode(store.config().ackMode()))).build());
    }

    private void unsubscribe(long id, long subscriptionId, Runnable release) {
        Subscription s = connection.subscription(subscriptionId);
        if (s == null) {
            fail(id, release, RingStoreException.invalid(InvalidDetail.NO_SUCH_SUBSCRIPTION,
                    "no such subscription on this connection: subscription_id=" + subscriptionId));
            return;
        }
        // Answer after the subscription's last event has been queued, on another thread: the
        // reader must not wait for a subscription that may be waiting for the client.
        Thread.ofVirtual().name("ringstore-unsubscribe-" + connection.number()).start(() -> {
            s.stop(Subscription.StopReason.UNSUBSCRIBED);
            s.awaitEnd();
            reply(release, Response.newBuilder().setId(id).setUnsubscribe(UnsubscribeResponse.getDefaultInstance()).build());
        });
    }

    private void reply(Runnable release, Response response) {
        connection.send(response, release);
    }

    private void fail(long id, Runnable release, ErrorCode code, String message) {
        reply(release, Response.newBuilder().setId(id).setError(Wire.error(code, message)).build());
    }

    /** Answers a failure: typed errors as they are, anything else as STORAGE_ERROR (and logged). */
    void fail(long id, Runnable release, Throwable error) {
        reply(release, Response.newBuilder().setId(id).setError(wireError(error)).build());
    }

    /** A failure as the wire's Error: typed errors as they are, anything else as STORAGE_ERROR (and logged). */
    private io.ringstore.protocol.v1.Error wireError(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof RingStoreException r) {
            return Wire.error(r);
        } else if (e instanceof IllegalArgumentException) {
            return Wire.error(ErrorCode.INVALID_REQUEST, String.valueOf(e.getMessage()));
        } else {
            Logger.error(e, "{} request failed unexpectedly", connection.name());
            return Wire.error(ErrorCode.STORAGE_ERROR, "request failed: " + e);
        }
    }
}
