package io.ringstore.consensus;

import io.ringstore.replication.PlainSockets;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One voter in its own JVM, for {@link VoterKillTest}: args are board, state folder, election and
 * heartbeat millis, then name=port for every voter (loopback). Prints "STARTED term=T" once
 * running, and "APPLIED epoch=E primary=P index=I" for every state it applies; a line "propose
 * EXPECTED NEW BOARD" on stdin proposes a new primary. Runs until killed or stdin ends.
 */
public final class VoterChild {
    public static void main(String[] args) throws Exception {
        String board = args[0];
        Path dir = Path.of(args[1]);
        long election = Long.parseLong(args[2]);
        long heartbeat = Long.parseLong(args[3]);
        Map<String, InetSocketAddress> voters = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=");
            voters.put(kv[0], new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(kv[1])));
        }
        VoterGroup g = VoterGroup.start(new GroupOptions(board, voters, voters.get(board), dir, new PlainSockets(),
                election, heartbeat, 3_000));
        System.out.println("STARTED term=" + g.term());
        g.onApplied(s -> System.out.println("APPLIED epoch=" + s.epoch() + " primary=" + s.primary() + " index=" + s.index()));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.split(" ");
            if (w[0].equals("propose")) {
                GroupState s = g.propose(new GroupChange.NewPrimary(Long.parseLong(w[1]), Long.parseLong(w[2]), w[3],
                        java.util.List.of(w[3]))).get();
                System.out.println("PROPOSED epoch=" + s.epoch());
            }
        }
        g.close();
    }
}
