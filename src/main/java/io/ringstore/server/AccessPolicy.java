package io.ringstore.server;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who may do what, decided from the peer's credentials. With no rules, everyone who can open the
 * socket (its file mode is 0660 and its group the daemon's) may read and write. With any rule,
 * only root, the daemon's own user and the users and groups listed get in; a user or group
 * listed as read-write wins over read-only. A group matches the peer's gid from
 * {@code SO_PEERCRED} or any group the user database lists the peer's user in.
 */
public final class AccessPolicy {
    private final boolean restricted;
    private final Set<Integer> readWriteUsers;
    private final Set<Integer> readWriteGroups;
    private final Set<Integer> readOnlyUsers;
    private final Set<Integer> readOnlyGroups;
    private final int daemonUid;

    private AccessPolicy(boolean restricted, Set<Integer> rwUsers, Set<Integer> rwGroups, Set<Integer> roUsers,
                         Set<Integer> roGroups, int daemonUid) {
        this.restricted = restricted;
        this.readWriteUsers = Set.copyOf(rwUsers);
        this.readWriteGroups = Set.copyOf(rwGroups);
        this.readOnlyUsers = Set.copyOf(roUsers);
        this.readOnlyGroups = Set.copyOf(roGroups);
        this.daemonUid = daemonUid;
    }

    /** Everyone who can connect may read and write. */
    public static AccessPolicy open() {
        return new AccessPolicy(false, Set.of(), Set.of(), Set.of(), Set.of(), -1);
    }

    /**
     * Builds a policy from comma-separated lists of user and group names or numbers (null or
     * empty: none). When all four are empty the policy is {@link #open()}.
     *
     * @throws IllegalArgumentException naming a user or group that does not exist
     */
    public static AccessPolicy of(String readWriteUsers, String readWriteGroups, String readOnlyUsers,
                                  String readOnlyGroups) {
        Set<Integer> rwu = ids(readWriteUsers, true);
        Set<Integer> rwg = ids(readWriteGroups, false);
        Set<Integer> rou = ids(readOnlyUsers, true);
        Set<Integer> rog = ids(readOnlyGroups, false);
        if (rwu.isEmpty() && rwg.isEmpty() && rou.isEmpty() && rog.isEmpty()) {
            return open();
        }
        return new AccessPolicy(true, rwu, rwg, rou, rog, PosixAccounts.effectiveUid());
    }

    private static Set<Integer> ids(String list, boolean users) {
        Set<Integer> out = new TreeSet<>();
        if (list == null || list.isBlank()) {
            return out;
        }
        for (String raw : list.split(",")) {
            String name = raw.trim();
            if (name.isEmpty()) {
                continue;
            }
            OptionalInt id = users ? PosixAccounts.uidOf(name) : PosixAccounts.gidOf(name);
            if (id.isEmpty()) {
                throw new IllegalArgumentException("no such " + (users ? "user" : "group") + ": " + name);
            }
            out.add(id.getAsInt());
        }
        return out;
    }

    public Access decide(Peer peer) {
        if (!restricted || peer.uid() == 0 || peer.uid() == daemonUid) {
            return Access.READ_WRITE;
        }
        if (readWriteUsers.contains(peer.uid()) || readWriteGroups.stream().anyMatch(peer::inGroup)) {
            return Access.READ_WRITE;
        }
        if (readOnlyUsers.contains(peer.uid()) || readOnlyGroups.stream().anyMatch(peer::inGroup)) {
            return Access.READ_ONLY;
        }
        return Access.NONE;
    }

    @Override
    public String toString() {
        if (!restricted) {
            return "open (the socket's mode and group decide)";
        }
        List<String> parts = new ArrayList<>();
        parts.add("readWriteUids=" + new TreeSet<>(readWriteUsers));
        parts.add("readWriteGids=" + new TreeSet<>(readWriteGroups));
        parts.add("readOnlyUids=" + new TreeSet<>(readOnlyUsers));
        parts.add("readOnlyGids=" + new TreeSet<>(readOnlyGroups));
        return String.join(" ", parts) + " (plus root and uid " + daemonUid + ")";
    }
}
