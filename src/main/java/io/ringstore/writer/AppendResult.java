package io.ringstore.writer;

import io.ringstore.replication.AckMode;

/**
 * A successful append.
 *
 * @param stream        the stream appended to
 * @param firstVersion  version of the first event appended
 * @param lastVersion   version of the last event appended (the stream's version after the append)
 * @param firstPosition log position of the first event
 * @param lastPosition  log position of the last event
 * @param durability    the mode that applied to this acknowledgement on this board
 * @param replayed      true when the event ids had been appended before and this is the original result
 * @param ackMode       who held the append when it was acknowledged: {@link AckMode#LOCAL} (this board,
 *                      as {@code durability} says; also a replica-mode store that the operator put solo),
 *                      or the replica mode whose standbys held it
 * @param solo          acknowledged as local because the operator put a replica-mode store solo
 */
public record AppendResult(String stream, long firstVersion, long lastVersion, long firstPosition,
                           long lastPosition, Durability durability, boolean replayed, AckMode ackMode, boolean solo) {

    /** The same append, acknowledged in {@code mode} with {@code applied} durability on this board. */
    public AppendResult withAck(AckMode mode, boolean isSolo, Durability applied) {
        return mode == ackMode && isSolo == solo && applied == durability ? this
                : new AppendResult(stream, firstVersion, lastVersion, firstPosition, lastPosition, applied, replayed,
                        mode, isSolo);
    }
}
