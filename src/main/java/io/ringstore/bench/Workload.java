package io.ringstore.bench;

import java.util.SplittableRandom;

/**
 * What is appended, fixed before the clock starts: event i goes to stream {@link #streamOf(int)},
 * chosen uniformly at random with a fixed seed, and carries {@link #payload()} (random bytes,
 * same seed). Every run of every configuration appends exactly the same sequence.
 */
final class Workload {
    static final String EVENT_TYPE = "bench";

    private final String[] streamNames;
    private final int[] streamOfEvent;
    private final byte[] payload;

    private Workload(String[] streamNames, int[] streamOfEvent, byte[] payload) {
        this.streamNames = streamNames;
        this.streamOfEvent = streamOfEvent;
        this.payload = payload;
    }

    static Workload generate(int events, int streams, int payloadBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int width = Integer.toString(Math.max(0, streams - 1)).length();
        String[] names = new String[streams];
        for (int s = 0; s < streams; s++) {
            names[s] = "stream-" + "0".repeat(width - Integer.toString(s).length()) + s;
        }
        int[] of = new int[events];
        for (int i = 0; i < events; i++) {
            of[i] = random.nextInt(streams);
        }
        byte[] payload = new byte[payloadBytes];
        random.nextBytes(payload);
        return new Workload(names, of, payload);
    }

    int events() {
        return streamOfEvent.length;
    }

    int payloadBytes() {
        return payload.length;
    }

    String streamOf(int event) {
        return streamNames[streamOfEvent[event]];
    }

    /** Every stream name has the same length (zero-padded), so framed sizes do not vary. */
    int streamNameBytes() {
        return streamNames[0].length();
    }

    /** Shared by every event; neither the store nor the baseline keeps a reference to it. */
    byte[] payload() {
        return payload;
    }

    /** Distinct streams actually used (at most the configured number). */
    int streamsUsed() {
        boolean[] seen = new boolean[streamNames.length];
        int n = 0;
        for (int s : streamOfEvent) {
            if (!seen[s]) {
                seen[s] = true;
                n++;
            }
        }
        return n;
    }
}
