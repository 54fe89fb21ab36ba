package io.ringstore.replication;

/**
 * Replication at a glance, cheap enough for the LED thread and the status line (no folder is
 * read; {@link Replication#status()} has the full picture).
 *
 * @param role               this board's role
 * @param epoch              its current epoch
 * @param acknowledging      whether it takes appends (false: a standby, or a primary fenced by a newer epoch)
 * @param standbysConfigured peers a primary ships to (0 on a standby)
 * @param standbysConnected  of those, how many are connected now
 * @param lagBytes           a primary: written position minus the lowest position a connected
 *                           standby holds in memory (0 when none is connected); a standby: how
 *                           far what it holds is behind what its primary last said it acknowledged
 * @param primaryConnected   a standby: connected to its primary now
 */
public record ReplicationSummary(Role role, long epoch, boolean acknowledging, int standbysConfigured,
                                 int standbysConnected, long lagBytes, boolean primaryConnected) {
    /** Past this many bytes behind, a connected peer counts as lagging (a few batches in flight are normal). */
    public static final long LAGGING_BYTES = 1L << 20;

    /** Everything as it should be: a primary with every standby connected and close, or a standby following its primary closely. */
    public boolean inSync() {
        return role == Role.PRIMARY
                ? acknowledging && standbysConnected == standbysConfigured && lagBytes <= LAGGING_BYTES
                : primaryConnected && lagBytes <= LAGGING_BYTES;
    }

    /** For the status line: {@code role=primary epoch=1 standbys=1/1 lag=0B}. */
    public String describe() {
        String r = role.configName() + (acknowledging || role != Role.PRIMARY ? "" : "(fenced)");
        return role == Role.PRIMARY
                ? "role=" + r + " epoch=" + epoch + " standbys=" + standbysConnected + "/" + standbysConfigured
                        + " standby_lag=" + lagBytes + "B"
                : "role=" + r + " epoch=" + epoch + " primary=" + (primaryConnected ? "connected" : "disconnected")
                        + " behind=" + lagBytes + "B";
    }
}
