package io.ringstore.server;

import java.util.Arrays;
import java.util.OptionalInt;
import jdk.net.UnixDomainPrincipal;

/**
 * The process at the other end of a connection, from {@code SO_PEERCRED}.
 *
 * @param uid    its effective uid when it connected
 * @param gid    its effective gid when it connected
 * @param user   its user name, or the uid as text when the user database has none
 * @param groups its gid and the groups the user database lists it in
 */
public record Peer(int uid, int gid, String user, int[] groups) {

    /** Resolves a principal from {@code SO_PEERCRED} to numbers (the JDK gives names). */
    public static Peer of(UnixDomainPrincipal principal) {
        String user = principal.user().getName();
        String group = principal.group().getName();
        OptionalInt uid = PosixAccounts.uidOf(user);
        OptionalInt gid = PosixAccounts.gidOf(group);
        int g = gid.orElse(-1);
        int[] groups = PosixAccounts.user(user).isPresent() && g >= 0 ? PosixAccounts.groupsOf(user, g) : new int[] {g};
        return new Peer(uid.orElse(-1), g, user, groups);
    }

    public boolean inGroup(int groupId) {
        return gid == groupId || Arrays.stream(groups).anyMatch(x -> x == groupId);
    }

    @Override
    public String toString() {
        return "uid=" + uid + " user=" + user + " gid=" + gid;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Peer p && p.uid == uid && p.gid == gid && p.user.equals(user) && Arrays.equals(p.groups, groups);
    }

    @Override
    public int hashCode() {
        return uid * 31 + gid;
    }
}
