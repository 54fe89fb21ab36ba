package io.ringstore.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ringstore.error.ErrorCode;
import io.ringstore.error.InvalidDetail;
import io.ringstore.error.NotPrimaryException;
import io.ringstore.error.RingStoreException;
import io.ringstore.protocol.Framing;
import io.ringstore.protocol.Wire;
import io.ringstore.protocol.v1.PingResponse;
import io.ringstore.protocol.v1.Request;
import io.ringstore.protocol.v1.Response;
import io.ringstore.protocol.v1.StatusResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import jdk.net.ExtendedSocketOptions;
import org.tinylog.Logger;

/**
 * A witness's Unix sockets (protobuf and JSON lines, the same paths, access rules and framing
 * as a data board's): a witness holds no events, so it answers status and ping, and refuses
 * every operation on events with NOT_PRIMARY naming the primary the group committed, so a
 * client pointed at the witness learns where to go. Each connection is served on its own
 * virtual thread, one request at a time (every answer is immediate): a witness must fit in a
 * 32 MiB heap on a Pi Zero, so a request frame is at most {@value #MAX_FRAME_BYTES} bytes and
 * at most {@value #REQUEST_BYTES_BUDGET} bytes of requests are held at once.
 */
public final class WitnessServer implements AutoCloseable {
    /** The largest request a witness reads: it never needs an event's bytes, only the request's id. */
    public static final int MAX_FRAME_BYTES = 1 << 20;
    static final int REQUEST_BYTES_BUDGET = 4 << 20;
    private static final int BACKLOG = 32;

    /** What the witness answers with. */
    public interface Answers {
        /** The status answer (the caller sets access, connections and limits). */
        StatusResponse.Builder status();

        /** The refusal of an operation on events: NOT_PRIMARY naming the primary, as far as the group knows. */
        NotPrimaryException notPrimary(String what);
    }

    private final ServerConfig config;
    private final Answers answers;
    private final SocketFile socket;
    private final SocketFile jsonSocket;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final Semaphore requestBytes = new Semaphore(REQUEST_BYTES_BUDGET);
    private final int maxFrameBytes;
    private volatile boolean closed;

    private WitnessServer(ServerConfig config, Answers answers, SocketFile socket, SocketFile jsonSocket) {
        this.config = config;
        this.answers = answers;
        this.socket = socket;
        this.jsonSocket = jsonSocket;
        this.maxFrameBytes = Math.min(config.maxFrameBytes(), MAX_FRAME_BYTES);
    }

    /**
     * Binds the sockets (see {@link SocketFile}) and starts accepting.
     *
     * @throws SocketFile.InUseException when a socket is served by another process
     */
    public static WitnessServer start(ServerConfig config, Answers answers) throws IOException {
        SocketFile socket = SocketFile.bind(config.socket(), config.socketGroup(), BACKLOG);
        SocketFile json;
        try {
            json = config.jsonSocket() == null ? null : SocketFile.bind(config.jsonSocket(), config.socketGroup(), BACKLOG);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        WitnessServer server = new WitnessServer(config, answers, socket, json);
        Thread.ofPlatform().name("ringstore-accept").daemon().start(() -> server.acceptLoop(socket, Dialect.PROTOBUF));
        if (json != null) {
            Thread.ofPlatform().name("ringstore-accept-json").daemon().start(() -> server.acceptLoop(json, Dialect.JSON_LINES));
        }
        Logger.info("listening: socket={} json_socket={} mode=0660 access={} (witness: status only)", socket.path(),
                json == null ? "none" : json.path(), config.access());
        return server;
    }

    public Path socketPath() {
        return socket.path();
    }

    public Path jsonSocketPath() {
        return jsonSocket == null ? null : jsonSocket.path();
    }

    public int connectionCount() {
        return connections.size();
    }

    private void acceptLoop(SocketFile from, Dialect dialect) {
        while (!closed) {
            SocketChannel channel = from.accept(() -> closed);
            if (channel == null) {
                return;
            }
            if (connections.size() >= config.maxConnections()) {
                Logger.warn("connection refused: connections={} max={}", connections.size(), config.maxConnections());
                try (channel) {
                    write(channel, dialect.encoder(), Response.newBuilder().setError(Wire.error(ErrorCode.OVERLOADED,
                            "too many connections: max=" + config.maxConnections())).build());
                } catch (IOException e) {
                    Logger.debug("refusing a connection failed: {}", e.toString());
                }
                continue;
            }
            connections.add(channel);
            Thread.ofVirtual().name("ringstore-witness-conn").start(() -> serve(channel, dialect));
        }
    }

    private void serve(SocketChannel channel, Dialect dialect) {
        try (channel) {
            Peer peer = Peer.of(channel.getOption(ExtendedSocketOptions.SO_PEERCRED));
            Access access = config.access().decide(peer);
            AnswerEncoder out = dialect.encoder();
            if (dialect == Dialect.JSON_LINES) {
                lines(channel, out, access);
            } else {
                frames(channel, out, access);
            }
        } catch (IOException e) {
            Logger.debug("witness connection ended: {}", e.toString());
        } catch (RuntimeException e) {
            Logger.error(e, "witness connection failed unexpectedly, closing it");
        } finally {
            connections.remove(channel);
        }
    }

    private void frames(SocketChannel channel, AnswerEncoder out, Access access) throws IOException {
        Framing.Reader reader = new Framing.Reader(channel, 4096);
        while (!closed) {
            int length;
            try {
                length = reader.readLength(maxFrameBytes);
            } catch (Framing.FrameTooLargeException e) {
                write(channel, out, Response.newBuilder().setError(Wire.error(ErrorCode.FRAME_TOO_LARGE, e.getMessage()
                        + " (a witness reads requests of at most " + maxFrameBytes + " bytes)")).build());
                return;
            } catch (Framing.MalformedFrameException e) {
                write(channel, out, Response.newBuilder().setError(Wire.error(InvalidDetail.MALFORMED_FRAME,
                        "malformed frame: " + e.getMessage())).build());
                return;
            }
            if (length < 0) {
                return;
            }
            Request request;
            acquire(length);
            try {
                request = Request.parseFrom(reader.readBody(length));
            } catch (InvalidProtocolBufferException | Framing.MalformedFrameException e) {
                write(channel, out, Response.newBuilder().setError(Wire.error(InvalidDetail.MALFORMED_FRAME,
                        "frame is not a ringstore.v1.Request: " + e.getMessage())).build());
                return;
            } finally {
                requestBytes.release(length);
            }
            if (request.getId() == 0) {
                write(channel, out, Response.newBuilder().setError(Wire.error(ErrorCode.REQUEST_ID_INVALID,
                        "request id 0 is reserved for connection-level errors: use 1 and up")).build());
                continue;
            }
            write(channel, out, answer(request, access));
        }
    }

    private void lines(SocketChannel channel, AnswerEncoder out, Access access) throws IOException {
        LineReader reader = new LineReader(channel, maxFrameBytes);
        long seq = 0;
        while (!closed) {
            byte[] line;
            try {
                line = reader.next();
            } catch (LineReader.TooLongException e) {
                write(channel, out, Response.newBuilder().setId(++seq).setError(Wire.error(ErrorCode.FRAME_TOO_LARGE,
                        e.getMessage() + "; the connection is closed")).build());
                return;
            }
            if (line == null) {
                return;
            }
            if (new String(line, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
                continue;
            }
            long id = ++seq;
            Request request;
            try {
                request = io.ringstore.jsonlines.JsonRequests.parse(id, new String(line, java.nio.charset.StandardCharsets.UTF_8));
            } catch (io.ringstore.jsonlines.JsonLines.BadLineException e) {
                write(channel, out, Response.newBuilder().setId(id)
                        .setError(Wire.error(InvalidDetail.MALFORMED_LINE, "bad line: " + e.getMessage())).build());
                continue;
            }
            write(channel, out, answer(request, access));
            if (request.hasSubscribe()) {
                return; // on the JSON socket a subscription's error line is the connection's last
            }
        }
    }

    /** The answer to one request: status and ping served, everything about events refused. */
    Response answer(Request request, Access access) {
        long id = request.getId();
        Request.OpCase op = request.getOpCase();
        boolean allowed = switch (op) {
            case PING, OP_NOT_SET -> true;
            case APPEND, SET_STREAM_LIMITS, DELETE_STREAM, SET_SOLO, PROMOTE -> access.canWrite();
            case STATUS -> request.getStatus().getDrainSplitter() ? access.canWrite() : access.canRead();
            default -> access.canRead();
        };
        if (!allowed) {
            return error(id, new RingStoreException(ErrorCode.ACCESS_DENIED, "access denied: op="
                    + op.name().toLowerCase(Locale.ROOT) + " access=" + access.name().toLowerCase(Locale.ROOT)));
        }
        if (closed && op != Request.OpCase.PING) {
            return error(id, new RingStoreException(ErrorCode.SHUTTING_DOWN, "the daemon is stopping"));
        }
        return switch (op) {
            case PING -> Response.newBuilder().setId(id)
                    .setPing(PingResponse.newBuilder().setPayload(request.getPing().getPayload())).build();
            case STATUS -> Response.newBuilder().setId(id).setStatus(status(access)).build();
            case APPEND -> error(id, answers.notPrimary("append to stream " + request.getAppend().getStream()));
            case MULTI_APPEND -> error(id, answers.notPrimary("append to " + request.getMultiAppend().getAppendsCount()
                    + " streams"));
            case SET_STREAM_LIMITS, DELETE_STREAM -> error(id, answers.notPrimary("change stream "
                    + (op == Request.OpCase.DELETE_STREAM ? request.getDeleteStream().getStream()
                    : request.getSetStreamLimits().getStream())));
            case READ_STREAM, READ_ALL, SUBSCRIBE, GET_STREAM_LIMITS -> error(id, answers.notPrimary("read events "
                    + "(a witness holds none; any data board serves reads)"));
            case SET_SOLO, PROMOTE -> error(id, RingStoreException.invalid("this board is a witness: it holds no events "
                    + "and is never primary; run " + op.name().toLowerCase(Locale.ROOT) + " on a data board"));
            case UNSUBSCRIBE -> error(id, RingStoreException.invalid(InvalidDetail.NO_SUCH_SUBSCRIPTION,
                    "no such subscription on this connection: subscription_id=" + request.getUnsubscribe().getSubscriptionId()));
            case OP_NOT_SET -> error(id, RingStoreException.invalid(InvalidDetail.EMPTY_REQUEST,
                    "request has no operation (empty, or one this server does not know)"));
        };
    }

    private StatusResponse status(Access access) {
        return answers.status()
                .setConnections(connections.size())
                .setAccess(switch (access) {
                    case NONE -> io.ringstore.protocol.v1.Access.ACCESS_NONE;
                    case READ_ONLY -> io.ringstore.protocol.v1.Access.ACCESS_READ_ONLY;
                    case READ_WRITE -> io.ringstore.protocol.v1.Access.ACCESS_READ_WRITE;
                })
                .setMaxRequestBytes(maxFrameBytes)
                .setMaxResponseBytes(64 << 10)
                .setMaxInFlight(1)
                .build();
    }

    private static Response error(long id, RingStoreException e) {
        return Response.newBuilder().setId(id).setError(Wire.error(e)).build();
    }

    private static void write(SocketChannel channel, AnswerEncoder out, Response response) throws IOException {
        out.add(response);
        ByteBuffer b = out.buffer();
        while (b.hasRemaining()) {
            channel.write(b);
        }
        out.reset(16 << 10);
    }

    private void acquire(int bytes) throws IOException {
        try {
            requestBytes.acquire(bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for request memory");
        }
    }

    /** Stops accepting, closes every connection and removes the socket files. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            socket.close();
        } finally {
            if (jsonSocket != null) {
                jsonSocket.close();
            }
            for (SocketChannel c : connections) {
                try {
                    c.close();
                } catch (IOException e) {
                    Logger.debug("closing a witness connection failed: {}", e.toString());
                }
            }
            Logger.info("socket closed: socket={}", socket.path());
        }
    }
}
