package io.ringstore.consensus;

import io.ringstore.replication.ReplicationSockets;
import io.ringstore.replication.tls.BoardKeys;
import io.ringstore.replication.tls.TlsMaterial;
import io.ringstore.replication.tls.TlsSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Real keys (keygen, keytool) for a set of voters, each trusting exactly the others, as the daemon loads them. */
final class TlsVoters {
    private TlsVoters() {}

    static Map<String, ReplicationSockets> sockets(Path root, List<String> names) throws Exception {
        // keytool is a JVM start each: make them all at once.
        try (ExecutorService pool = Executors.newFixedThreadPool(names.size())) {
            List<Future<BoardKeys.Made>> made = names.stream().map(n -> pool.submit(
                    () -> BoardKeys.generate(n, root.resolve(n), BoardKeys.DEFAULT_DAYS, BoardKeys.DEFAULT_START, null))).toList();
            for (Future<BoardKeys.Made> f : made) {
                f.get();
            }
        }
        Map<String, ReplicationSockets> sockets = new LinkedHashMap<>();
        for (String n : names) {
            Path peers = Files.createDirectories(root.resolve(n).resolve("peers"));
            List<String> others = names.stream().filter(o -> !o.equals(n)).toList();
            for (String o : others) {
                Files.copy(root.resolve(o).resolve(o + ".crt"), peers.resolve(o + ".crt"));
            }
            sockets.put(n, new TlsSockets(TlsMaterial.load(root.resolve(n).resolve(n + ".p12"), peers, others),
                    TlsSockets.DEFAULT_HANDSHAKE_TIMEOUT_MILLIS));
        }
        return sockets;
    }
}
