package io.ringstore.failover;

import io.ringstore.client.AllPage;
import io.ringstore.client.RecordedEvent;
import io.ringstore.client.RingStoreClient;
import io.ringstore.failover.History.Ack;
import io.ringstore.failover.History.Attempt;
import io.ringstore.failover.VoterBoards.Voter;
import io.ringstore.protocol.v1.StatusResponse;
import io.ringstore.read.Direction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Reads every board back after the run (healed, whole, clients stopped) and checks the history:
 * <ol>
 *   <li>no acknowledged event lost: each is on every data board at its acknowledged version and
 *       position, with its id and data (stream reads);
 *   <li>no duplicates and nothing unattempted: each client stream is contiguous from 0, each event
 *       one the client attempted at that version, each id once in {@code $all};
 *   <li>at most one board acknowledging per epoch;
 *   <li>the data boards converge: the same {@code $all}, record for record;
 *   <li>every divergent tail set aside: the files each board's status names exist in its data
 *       folder and are not empty, and its journal says it set a tail aside;
 *   <li>the witness holds no events.
 * </ol>
 * Every violation is collected (not only the first), so a failed run's report says all it saw.
 */
final class GroupChecker {
    private final VoterBoards boards;
    private final History history;
    private final int clients;
    final List<String> violations = new ArrayList<>();
    long lost;
    int doubleEpochs;
    int divergedFiles;
    final Map<String, Integer> divergedByBoard = new LinkedHashMap<>();
    long eventsOnBoards;

    /** Boards that must report a divergent tail set aside (killed holding appends no standby held). */
    final java.util.Set<String> expectTail = new java.util.LinkedHashSet<>();

    GroupChecker(VoterBoards boards, History history, int clients) {
        this.boards = boards;
        this.history = history;
        this.clients = clients;
    }

    void check() throws Exception {
        violations.addAll(history.problems);
        Map<String, List<RecordedEvent>> allByBoard = new LinkedHashMap<>();
        for (Voter v : boards.dataBoards()) {
            try (RingStoreClient c = VoterBoards.connect(v)) {
                StatusResponse st = c.status().get(10, TimeUnit.SECONDS);
                List<RecordedEvent> all = readAll(c);
                allByBoard.put(v.name(), all);
                checkAcknowledged(v, c);
                checkStreams(v, c, all);
                checkDiverged(v, st);
            }
        }
        checkEpochs();
        checkConverged(allByBoard);
        Voter w = boards.witness();
        if (w != null) {
            checkWitness(w);
        }
        eventsOnBoards = allByBoard.values().stream().mapToLong(List::size).max().orElse(0);
    }

    private void checkAcknowledged(Voter v, RingStoreClient c) throws Exception {
        long missing = 0;
        List<String> examples = new ArrayList<>();
        for (Ack a : history.acks()) {
            List<RecordedEvent> e = c.readStream(a.stream(), a.version(), 1, Direction.FORWARD).get(10, TimeUnit.SECONDS).events();
            if (e.isEmpty() || e.getFirst().version() != a.version() || e.getFirst().position() != a.position()
                    || !Arrays.equals(e.getFirst().eventId(), a.id()) || !Arrays.equals(e.getFirst().data(), a.data())) {
                missing++;
                if (examples.size() < 10) {
                    examples.add(a + " -> " + (e.isEmpty() ? "missing" : e.getFirst()));
                }
            }
        }
        lost = Math.max(lost, missing);
        if (missing > 0) {
            violations.add(v.name() + ": " + missing + " acknowledged events lost or moved, e.g. " + examples);
        }
    }

    private void checkStreams(Voter v, RingStoreClient c, List<RecordedEvent> all) throws Exception {
        for (int i = 0; i < clients; i++) {
            List<RecordedEvent> events = readStream(c, "c" + i);
            for (int n = 0; n < events.size(); n++) {
                RecordedEvent e = events.get(n);
                Attempt at = history.attempted.get(Arrays.toString(e.eventId()));
                String where = v.name() + " c" + i + "@" + n + ": " + e;
                if (e.version() != n) {
                    violations.add(where + ": versions not contiguous");
                    break;
                }
                if (at == null) {
                    violations.add(where + ": never attempted");
                } else if (!at.stream().equals(e.stream()) || at.version() != e.version() || !Arrays.equals(at.data(), e.data())) {
                    violations.add(where + ": not what was attempted with its id (" + at.stream() + "@" + at.version() + ")");
                }
            }
        }
        Set<String> seen = new HashSet<>();
        for (RecordedEvent e : all) {
            if (e.stream().startsWith("c") && !seen.add(Arrays.toString(e.eventId()))) {
                violations.add(v.name() + ": event appears twice in $all: " + e);
            }
        }
    }

    private void checkDiverged(Voter v, StatusResponse st) throws Exception {
        List<String> files = st.getDivergedFilesList();
        divergedByBoard.put(v.name(), files.size());
        divergedFiles += files.size();
        for (String f : files) {
            Path file = Path.of(f).isAbsolute() ? Path.of(f) : v.data().resolve(f);
            if (!Files.exists(file)) {
                violations.add(v.name() + ": divergent tail file named in status does not exist: " + file);
            } else if (!file.toAbsolutePath().normalize().startsWith(v.data().toAbsolutePath().normalize())) {
                violations.add(v.name() + ": divergent tail file outside the data folder: " + file);
            } else if (Files.size(file) == 0) {
                violations.add(v.name() + ": divergent tail file is empty: " + file);
            }
        }
        if (files.isEmpty() && expectTail.contains(v.name())) {
            violations.add(v.name() + " was killed holding appends no standby held, and reports no divergent tail set aside");
        }
        if (!files.isEmpty() && boards.journal(v).stream().noneMatch(l -> l.contains("set aside"))) {
            violations.add(v.name() + ": status names divergent tails but the journal never says one was set aside");
        }
    }

    private void checkEpochs() {
        Map<Long, Set<String>> byEpoch = new TreeMap<>();
        for (Ack a : history.acks()) {
            byEpoch.computeIfAbsent(a.epoch(), k -> new HashSet<>()).add(a.board());
        }
        for (var e : byEpoch.entrySet()) {
            if (e.getValue().size() > 1) {
                doubleEpochs++;
                violations.add("epoch " + e.getKey() + " acknowledged by " + e.getValue());
            }
        }
    }

    private void checkConverged(Map<String, List<RecordedEvent>> allByBoard) {
        String first = null;
        List<RecordedEvent> ref = null;
        for (var e : allByBoard.entrySet()) {
            if (ref == null) {
                first = e.getKey();
                ref = e.getValue();
                continue;
            }
            List<RecordedEvent> other = e.getValue();
            if (other.size() != ref.size()) {
                violations.add("$all differs: " + first + " holds " + ref.size() + " events, " + e.getKey() + " " + other.size());
            }
            for (int i = 0; i < Math.min(ref.size(), other.size()); i++) {
                RecordedEvent a = ref.get(i);
                RecordedEvent b = other.get(i);
                if (a.position() != b.position() || !a.stream().equals(b.stream()) || a.version() != b.version()
                        || !Arrays.equals(a.eventId(), b.eventId()) || !Arrays.equals(a.data(), b.data())) {
                    violations.add("$all record " + i + " differs: " + first + " " + a + ", " + e.getKey() + " " + b);
                    break;
                }
            }
        }
    }

    /** A witness answers status and holds no events: a read of $all fails or is empty. */
    private void checkWitness(Voter w) {
        try (RingStoreClient c = VoterBoards.connect(w)) {
            AllPage page;
            try {
                page = c.readAll(0, 10).get(10, TimeUnit.SECONDS);
            } catch (Exception refused) {
                return;
            }
            if (!page.events().isEmpty()) {
                violations.add("the witness " + w.name() + " holds events: " + page.events().getFirst());
            }
        } catch (Exception e) {
            violations.add("the witness " + w.name() + " does not answer: " + e);
        }
    }

    static List<RecordedEvent> readAll(RingStoreClient c) throws Exception {
        List<RecordedEvent> all = new ArrayList<>();
        long from = 0;
        while (true) {
            AllPage page = c.readAll(from, 500).get(30, TimeUnit.SECONDS);
            all.addAll(page.events());
            if (page.end() || page.events().isEmpty() && page.nextPosition() == from) {
                return all;
            }
            from = page.nextPosition();
        }
    }

    static List<RecordedEvent> readStream(RingStoreClient c, String stream) throws Exception {
        List<RecordedEvent> all = new ArrayList<>();
        long from = 0;
        while (true) {
            var page = c.readStream(stream, from, 500, Direction.FORWARD).get(30, TimeUnit.SECONDS);
            all.addAll(page.events());
            if (page.endOfStream() || page.events().isEmpty()) {
                return all;
            }
            from = page.nextVersion();
        }
    }
}
