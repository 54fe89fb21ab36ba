package io.ringstore.failover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the clients and the nemesis of one run did and were told, for the checker and the summary:
 * every attempt (its id fixed, so retries are idempotent), every acknowledgement with the board and
 * epoch that gave it, the ambiguous outcomes by kind, and every fault with when it began.
 */
final class History {
    /** One acknowledgement. {@code epochFromAnswer}: the epoch came in the append's answer (else from a status asked right after). */
    record Ack(String stream, long version, long position, byte[] id, byte[] data, String board, long epoch,
               boolean epochFromAnswer, boolean replayed, long nanos) {
        String key() {
            return Arrays.toString(id);
        }

        @Override
        public String toString() {
            return stream + "@" + version + " pos " + position + " by " + board + " epoch " + epoch
                    + (replayed ? " (replayed)" : "");
        }
    }

    /** An event a client tried to append at a version. */
    record Attempt(String stream, long version, byte[] id, byte[] data) {
        String key() {
            return Arrays.toString(id);
        }
    }

    /** The kinds of fault the nemesis injects. */
    enum Fault {
        KILL_PRIMARY, KILL_STANDBY, KILL_WITNESS, PAUSE_PRIMARY, PAUSE_STANDBY, PAUSE_WITNESS, ISOLATE_PRIMARY,
        ISOLATE_OTHER, PARTITION_LINK, ONE_WAY_LINK, PRIMARY_DEAF, PRIMARY_MUTE, ISOLATE_PRIMARY_FROM_WITNESS
    }

    /** A fault as injected: when, against whom, and the primary and its epoch just before. */
    record Injected(int round, Fault fault, String detail, String primary, long epoch, long nanos) {}

    /** Why an attempt's outcome was unknown. */
    enum Ambiguity { TIMEOUT, NO_QUORUM, REPLICA_UNAVAILABLE, CONNECTION_LOST, NOT_VISIBLE_YET, OTHER }

    final List<Ack> acks = Collections.synchronizedList(new ArrayList<>());
    final Map<String, Attempt> attempted = new ConcurrentHashMap<>();
    final Set<String> ackedKeys = ConcurrentHashMap.newKeySet();
    final List<Injected> faults = Collections.synchronizedList(new ArrayList<>());
    final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong operations = new AtomicLong();
    final AtomicLong notPrimary = new AtomicLong();
    final AtomicLong presentUnacked = new AtomicLong();
    final Map<Ambiguity, AtomicLong> ambiguous = new EnumMap<>(Ambiguity.class);

    History() {
        for (Ambiguity a : Ambiguity.values()) {
            ambiguous.put(a, new AtomicLong());
        }
    }

    void ambiguous(Ambiguity a) {
        ambiguous.get(a).incrementAndGet();
    }

    long ambiguousTotal() {
        return ambiguous.values().stream().mapToLong(AtomicLong::get).sum();
    }

    List<Ack> acks() {
        synchronized (acks) {
            return List.copyOf(acks);
        }
    }

    int ackCount() {
        return acks.size();
    }

    Map<Fault, Integer> faultCounts() {
        Map<Fault, Integer> m = new EnumMap<>(Fault.class);
        synchronized (faults) {
            for (Injected i : faults) {
                m.merge(i.fault(), 1, Integer::sum);
            }
        }
        return m;
    }
}
