package io.ringstore.status;

import io.ringstore.consensus.GroupState;
import io.ringstore.consensus.VoterGroup;
import io.ringstore.protocol.v1.StatusResponse;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tinylog.Logger;

/**
 * The voter group as people see it, on a witness and on a data board alike: the status answer's
 * group fields (160-169), the status line's {@code group=leader:a voters=3/3 epoch=2 primary=a},
 * the journal line when a voter becomes unreachable or reachable again or the leader changes,
 * and what the lights show (fault: no majority reachable; replica: every voter reachable).
 *
 * <p>Reads only what the group keeps in memory (no network round trip), so the LED thread and
 * every status request may ask.
 */
public final class GroupStatus {
    /** What this class reads from the group; {@link #of(VoterGroup)} in the daemon, a fake in tests. */
    public interface Source {
        /** The leader's name, "" when unknown. */
        String leader();

        /** Per other voter: heard from recently. */
        Map<String, Boolean> reachable();

        GroupState committed();
    }

    /** The group's own answers. */
    public static Source of(VoterGroup group) {
        return new Source() {
            @Override
            public String leader() {
                return group.leader();
            }

            @Override
            public Map<String, Boolean> reachable() {
                return group.votersReachable();
            }

            @Override
            public GroupState committed() {
                return group.committed();
            }
        };
    }

    /** One moment of the group as this board sees it. */
    public record View(String board, String leader, Map<String, Boolean> reachable, GroupState committed, int total) {
        /** Reachable voters, this board included. */
        public int votersReachable() {
            int n = 1;
            for (Map.Entry<String, Boolean> e : reachable.entrySet()) {
                if (!e.getKey().equals(board) && e.getValue()) {
                    n++;
                }
            }
            return n;
        }

        public boolean majority() {
            return votersReachable() >= total / 2 + 1;
        }

        public boolean allReachable() {
            return votersReachable() == total;
        }
    }

    private final String board;
    private final Map<String, InetSocketAddress> voters;
    private final Source source;
    // The journal's memory of what it last said (only the reporter thread calls tick()).
    private Map<String, Boolean> lastReachable;
    private String lastLeader;
    private Boolean lastMajority;
    private long lastEpoch = -1;

    /**
     * @param board  this board's name
     * @param voters every voter, this board included, with its group address
     */
    public GroupStatus(String board, Map<String, InetSocketAddress> voters, Source source) {
        this.board = board;
        this.voters = new LinkedHashMap<>(voters);
        this.source = source;
    }

    public String board() {
        return board;
    }

    public View view() {
        return new View(board, source.leader(), source.reachable(), source.committed(), voters.size());
    }

    /** The group address of a voter as {@code host:port}, or null for a name that is not a voter. */
    public String address(String voter) {
        InetSocketAddress a = voters.get(voter);
        if (a == null) {
            return null;
        }
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Fills the status answer's group fields. */
    public void fill(StatusResponse.Builder b) {
        View v = view();
        b.setGroupBoard(board).setGroupLeader(v.leader()).setVotersReachable(v.votersReachable())
                .setVotersTotal(v.total()).addAllVoters(voterLines(v))
                .setGroupEpoch(v.committed().epoch()).setGroupPrimary(v.committed().primary())
                .addAllInSync(v.committed().inSync()).setGroupIndex(v.committed().index());
        String primaryAddress = address(v.committed().primary());
        if (primaryAddress != null) {
            b.setGroupPrimaryAddress(primaryAddress);
        }
    }

    /** {@code NAME HOST:PORT self|reachable|unreachable[ leader]} per voter, in config order. */
    public List<String> voterLines(View v) {
        List<String> lines = new ArrayList<>(voters.size());
        for (String name : voters.keySet()) {
            String state = name.equals(board) ? "self" : Boolean.TRUE.equals(v.reachable().get(name)) ? "reachable"
                    : "unreachable";
            lines.add(name + " " + address(name) + " " + state + (name.equals(v.leader()) ? " leader" : ""));
        }
        return lines;
    }

    /** For the status line: {@code group=leader:a voters=3/3 epoch=2 primary=a in_sync=a,b}. */
    public String describe() {
        return describe(view());
    }

    static String describe(View v) {
        GroupState c = v.committed();
        return "group=" + (v.leader().isEmpty() ? "no-leader" : "leader:" + v.leader()) + " voters=" + v.votersReachable()
                + "/" + v.total() + (v.majority() ? "" : " NO_MAJORITY") + " epoch=" + c.epoch() + " primary="
                + (c.primary().isEmpty() ? "none" : c.primary()) + " in_sync=" + (c.inSync().isEmpty() ? "none"
                : String.join(",", c.inSync()));
    }

    /**
     * Writes a journal line for each voter that became unreachable (warning) or reachable again,
     * for a change of leader or of epoch, and for losing or regaining a majority (error / info).
     *
     * @return whether anything changed (the caller then writes a status line too)
     */
    public boolean tick() {
        View v = view();
        boolean changed = false;
        Map<String, Boolean> now = new LinkedHashMap<>();
        for (String name : voters.keySet()) {
            if (!name.equals(board)) {
                now.put(name, Boolean.TRUE.equals(v.reachable().get(name)));
            }
        }
        if (lastReachable != null) {
            for (Map.Entry<String, Boolean> e : now.entrySet()) {
                Boolean before = lastReachable.get(e.getKey());
                if (before != null && !before.equals(e.getValue())) {
                    changed = true;
                    if (e.getValue()) {
                        Logger.info("group: voter {} at {} reachable (voters {}/{})", e.getKey(), address(e.getKey()),
                                v.votersReachable(), v.total());
                    } else {
                        Logger.warn("group: voter {} at {} unreachable (voters {}/{}, a majority is {})", e.getKey(),
                                address(e.getKey()), v.votersReachable(), v.total(), v.total() / 2 + 1);
                    }
                }
            }
        }
        lastReachable = now;
        if (lastMajority != null && lastMajority != v.majority()) {
            changed = true;
            if (v.majority()) {
                Logger.info("group: a majority is reachable again (voters {}/{})", v.votersReachable(), v.total());
            } else {
                Logger.error("group: NO MAJORITY: this board reaches {} of {} voters; it takes part in no decision until "
                        + "it reaches {} (fault LED on)", v.votersReachable(), v.total(), v.total() / 2 + 1);
            }
        }
        lastMajority = v.majority();
        if (lastLeader != null && !lastLeader.equals(v.leader())) {
            changed = true;
            Logger.info("group: leader {} (was {})", v.leader().isEmpty() ? "unknown" : v.leader(),
                    lastLeader.isEmpty() ? "unknown" : lastLeader);
        }
        lastLeader = v.leader();
        if (lastEpoch >= 0 && lastEpoch != v.committed().epoch()) {
            changed = true;
            Logger.warn("group: epoch {} primary {} in_sync {} (was epoch {})", v.committed().epoch(),
                    v.committed().primary().isEmpty() ? "none" : v.committed().primary(), v.committed().inSync(), lastEpoch);
        }
        lastEpoch = v.committed().epoch();
        return changed;
    }

    /** What the replica light shows for the voters: steady when all are reachable, fast blink when one is not. */
    public LedSignals.Replica replicaLight() {
        return view().allReachable() ? LedSignals.Replica.IN_SYNC : LedSignals.Replica.DEGRADED;
    }
}
