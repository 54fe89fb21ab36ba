package io.ringstore.server;

import java.nio.file.Path;

/**
 * How the socket server behaves; validated once, here.
 *
 * @param socket               the socket file
 * @param socketGroup          group of the socket file (name or number), null for the daemon's group
 * @param access               who may do what
 * @param maxConnections       connections served at once; more are told OVERLOADED and closed
 * @param maxInFlight          requests per connection read but not yet answered; at the limit the
 *                             server stops reading from that connection (backpressure)
 * @param maxFrameBytes        largest request frame; a larger one is answered FRAME_TOO_LARGE and closes the connection
 * @param requestBytesBudget   request bytes held in memory across all connections before readers wait
 * @param readPageBytes        a read response stops adding events past this size (it always holds one)
 * @param subscriberBufferBytes bytes of events queued for one subscriber and not yet written to its socket
 * @param slowSubscriberMillis a subscriber whose buffer stays full this long is dropped (SUBSCRIBER_TOO_SLOW)
 * @param maxSubscriptions     subscriptions per connection
 * @param jsonSocket           the JSON-lines socket file (same group, access and limits; a line
 *                             is limited to maxFrameBytes), null for none
 */
public record ServerConfig(Path socket, String socketGroup, AccessPolicy access, int maxConnections, int maxInFlight,
                           int maxFrameBytes, long requestBytesBudget, int readPageBytes, int subscriberBufferBytes,
                           long slowSubscriberMillis, int maxSubscriptions, Path jsonSocket) {
    public static final Path DEFAULT_SOCKET = Path.of("/run/ringstore/ringstore.sock");
    /** The JSON-lines socket's file name, beside the protobuf socket unless configured. */
    public static final String JSON_SOCKET_NAME = "json.sock";
    /** Room for the largest event the writer accepts (4 MiB) with its envelope. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 8 << 20;
    /** The kernel's limit on a Unix socket path (sun_path), including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;

    public ServerConfig {
        if (socket == null) {
            throw new IllegalArgumentException("socket path must be set");
        }
        for (Path p : new Path[] {socket, jsonSocket}) {
            if (p != null && p.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    > MAX_SOCKET_PATH_BYTES) {
                throw new IllegalArgumentException("socket path longer than " + MAX_SOCKET_PATH_BYTES + " bytes: " + p);
            }
        }
        if (jsonSocket != null && jsonSocket.toAbsolutePath().normalize().equals(socket.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("the JSON socket must not be the protobuf socket: " + jsonSocket);
        }
        if (access == null) {
            throw new IllegalArgumentException("access policy must be set");
        }
        if (maxConnections < 1 || maxInFlight < 1 || maxSubscriptions < 1) {
            throw new IllegalArgumentException("maxConnections, maxInFlight and maxSubscriptions must be >= 1");
        }
        if (maxFrameBytes < 1024) {
            throw new IllegalArgumentException("maxFrameBytes must be >= 1024: " + maxFrameBytes);
        }
        if (requestBytesBudget < maxFrameBytes) {
            throw new IllegalArgumentException("requestBytesBudget must be >= maxFrameBytes: " + requestBytesBudget);
        }
        if (readPageBytes < 1024 || subscriberBufferBytes < 1024) {
            throw new IllegalArgumentException("readPageBytes and subscriberBufferBytes must be >= 1024");
        }
        if (slowSubscriberMillis < 1) {
            throw new IllegalArgumentException("slowSubscriberMillis must be >= 1: " + slowSubscriberMillis);
        }
    }

    public static ServerConfig defaults(Path socket) {
        return new ServerConfig(socket, null, AccessPolicy.open(), 256, 64, DEFAULT_MAX_FRAME_BYTES, 64L << 20,
                1 << 20, 1 << 20, 30_000, 64, null);
    }

    public ServerConfig withAccess(AccessPolicy a) {
        return new ServerConfig(socket, socketGroup, a, maxConnections, maxInFlight, maxFrameBytes, requestBytesBudget,
                readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withJsonSocket(Path path) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, maxInFlight, maxFrameBytes, requestBytesBudget,
                readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, path);
    }

    /**
     * The largest answer a client must accept: a read page stops adding events once past
     * readPageBytes but always holds one, and an event is never larger than the request that
     * carried it (plus a few header bytes, covered by the margin).
     */
    public int maxResponseBytes() {
        return (int) Math.min(Integer.MAX_VALUE, (long) readPageBytes + maxFrameBytes + 1024);
    }

    public ServerConfig withSocketGroup(String group) {
        return new ServerConfig(socket, group, access, maxConnections, maxInFlight, maxFrameBytes, requestBytesBudget,
                readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withMaxConnections(int n) {
        return new ServerConfig(socket, socketGroup, access, n, maxInFlight, maxFrameBytes, requestBytesBudget,
                readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withMaxInFlight(int n) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, n, maxFrameBytes, requestBytesBudget,
                readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withMaxFrameBytes(int n) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, maxInFlight, n,
                Math.max(requestBytesBudget, n), readPageBytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withMaxSubscriptions(int n) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, maxInFlight, maxFrameBytes,
                requestBytesBudget, readPageBytes, subscriberBufferBytes, slowSubscriberMillis, n, jsonSocket);
    }

    /** A read page's size limit (tests: many pages from a few events). */
    public ServerConfig withReadPageBytes(int bytes) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, maxInFlight, maxFrameBytes,
                requestBytesBudget, bytes, subscriberBufferBytes, slowSubscriberMillis, maxSubscriptions, jsonSocket);
    }

    public ServerConfig withSubscriberBuffer(int bytes, long slowMillis) {
        return new ServerConfig(socket, socketGroup, access, maxConnections, maxInFlight, maxFrameBytes,
                requestBytesBudget, readPageBytes, bytes, slowMillis, maxSubscriptions, jsonSocket);
    }
}
