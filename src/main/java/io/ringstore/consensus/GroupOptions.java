package io.ringstore.consensus;

import io.ringstore.replication.ReplicationSockets;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How this voter takes part in the group.
 *
 * @param board                 this voter's name (a key of {@code voters})
 * @param voters                all voters, this board included, in config order, with their group addresses
 * @param listen                where this voter listens for the other voters ({@code group_listen})
 * @param stateDir              Raft's persisted state (term, vote, log, snapshot); a witness has one too
 * @param sockets               TLS (daemon) or plain (tests), as for replication
 * @param electionTimeoutMillis a follower that hears no leader this long starts a (pre-)vote; seconds, for Wi-Fi
 * @param heartbeatMillis       how often the leader sends heartbeats
 * @param requestTimeoutMillis  bound on a propose or beat before it fails with {@link GroupUnavailableException}
 */
public record GroupOptions(String board, Map<String, InetSocketAddress> voters, InetSocketAddress listen, Path stateDir,
                           ReplicationSockets sockets, long electionTimeoutMillis, long heartbeatMillis,
                           long requestTimeoutMillis) {
    public static final long DEFAULT_ELECTION_TIMEOUT_MILLIS = 3000;
    public static final long DEFAULT_HEARTBEAT_MILLIS = 500;
    public static final long DEFAULT_REQUEST_TIMEOUT_MILLIS = 5000;

    public GroupOptions {
        if (board == null || voters == null || listen == null || stateDir == null || sockets == null) {
            throw new IllegalArgumentException("group options need a board, voters, a listen address, a state folder and sockets");
        }
        if (!voters.containsKey(board)) {
            throw new IllegalArgumentException("this board " + board + " is not among the voters " + voters.keySet());
        }
        if (electionTimeoutMillis <= 0 || heartbeatMillis <= 0 || requestTimeoutMillis <= 0) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        if (heartbeatMillis * 2 > electionTimeoutMillis) {
            throw new IllegalArgumentException("heartbeat (" + heartbeatMillis + " ms) must be at most half the election timeout ("
                    + electionTimeoutMillis + " ms)");
        }
        voters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(voters));
    }
}
