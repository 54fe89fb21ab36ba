package io.ringstore.bench;

import java.util.Arrays;

/**
 * Timed whole-stream reads of one set, each checked: the right number of events, versions 0..n-1
 * in order. A read that fails or comes back wrong is timed and counted, never dropped.
 */
final class ReadTimer {
    private final String label;
    private long[] nanos = new long[1024];
    private int n;
    private int wrong;
    private String firstWrong;

    ReadTimer(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }

    /** Reads {@code stream} whole from {@code source}, expecting {@code events} events. */
    void readWhole(StreamSource source, String stream, int events) {
        long start = System.nanoTime();
        String problem = null;
        try {
            int got = source.readWhole(stream);
            record(System.nanoTime() - start);
            if (got != events) {
                problem = got + " events instead of " + events;
            }
        } catch (Exception e) {
            record(System.nanoTime() - start);
            problem = e.toString();
        }
        if (problem != null) {
            wrong++;
            if (firstWrong == null) {
                firstWrong = "stream=" + stream + ": " + problem;
            }
        }
    }

    int reads() {
        return n;
    }

    private void record(long took) {
        if (n == nanos.length) {
            nanos = Arrays.copyOf(nanos, n * 2);
        }
        nanos[n++] = took;
    }

    /** The set's numbers; {@code ingestAcked} background appends acknowledged over {@code phaseNanos}. */
    SplitterReport.ReadSet result(long ingestAcked, long phaseNanos) {
        long[] sorted = Arrays.copyOf(nanos, n);
        Arrays.sort(sorted);
        return new SplitterReport.ReadSet(label, n, wrong, firstWrong, Percentiles.of(sorted, 0.50),
                Percentiles.of(sorted, 0.99), n == 0 ? 0 : sorted[n - 1], ingestAcked / (phaseNanos / 1e9));
    }
}
