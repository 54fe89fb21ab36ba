package io.ringstore.consensus;

/**
 * What a data board tells the group leader every beat (a witness sends none).
 *
 * @param board                this board's name
 * @param role                 "primary", "standby" or "fenced"
 * @param epoch                the epoch the board's log is in
 * @param held                 log position the board holds in memory
 * @param durable              log position the board has forced
 * @param promotable           whether the board could become primary without losing acknowledged events
 * @param notPromotableBecause why not ("" when promotable)
 * @param bootId               changes on every start of the board's daemon (an unclean restart shows as a new id)
 */
public record BoardBeat(String board, String role, long epoch, long held, long durable,
                        boolean promotable, String notPromotableBecause, long bootId) {
    public BoardBeat {
        if (board == null || board.isEmpty() || role == null || notPromotableBecause == null) {
            throw new IllegalArgumentException("a beat needs a board, a role and a reason (\"\" for none)");
        }
    }
}
