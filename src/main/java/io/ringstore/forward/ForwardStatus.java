package io.ringstore.forward;

/**
 * The forwarder as status shows it.
 *
 * @param state        what it is doing
 * @param url          the NATS URL(s), without credentials
 * @param stream       the JetStream stream
 * @param position     its checkpoint: everything before it is acknowledged by JetStream
 * @param forwarded    events JetStream acknowledged (since the checkpoint file was made)
 * @param lagEvents    events stored and not yet acknowledged by JetStream
 * @param lagBytes     log bytes from the checkpoint to the committed position
 * @param lagSeconds   age of the oldest event not yet acknowledged (0 when caught up)
 * @param lastError    why the last try failed, or null
 * @param skippedBytes log bytes the disk budget reclaimed before they were forwarded (total)
 * @param skipped      the last skipped range of positions ({@code from..to}), or null
 * @param duplicates   publishes JetStream answered as duplicates (since start): resends it dropped
 */
public record ForwardStatus(ForwardState state, String url, String stream, long position, long forwarded,
                            long lagEvents, long lagBytes, double lagSeconds, String lastError, long skippedBytes,
                            String skipped, long duplicates) {

    /** Fills StatusResponse fields 190-199. */
    public void writeTo(io.ringstore.protocol.v1.StatusResponse.Builder b) {
        b.setForwardState(state.configName()).setForwardUrl(url).setForwardEvents(forwarded)
                .setForwardLagEvents(lagEvents).setForwardLagBytes(lagBytes).setForwardLagSeconds(lagSeconds)
                .setForwardLastError(lastError == null ? "" : lastError).setForwardSkippedBytes(skippedBytes)
                .setForwardSkippedRange(skipped == null ? "" : skipped).setForwardPosition(position);
    }

    /** The status line's part: {@code forward=forwarding lag=3/412b/0.1s} and, when so, the error and skips. */
    public String describe() {
        StringBuilder b = new StringBuilder("forward=").append(state.configName()).append(" forward_lag=")
                .append(lagEvents).append('/').append(lagBytes).append("b/")
                .append(String.format(java.util.Locale.ROOT, "%.1fs", lagSeconds));
        if (skippedBytes > 0) {
            b.append(" FORWARD_SKIPPED=").append(skippedBytes).append("b(last ").append(skipped).append(')');
        }
        if (lastError != null && state != ForwardState.FORWARDING) {
            b.append(" forward_error=\"").append(lastError.replace('"', '\'')).append('"');
        }
        return b.toString();
    }
}
