package io.ringstore.bench;

import java.util.Arrays;
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
        return generate("stream-", events, streams, payloadBytes, seed);
    }

    /** Streams named {@code prefix} + zero-padded number; each event's stream uniform at random. */
    static Workload generate(String prefix, int events, int streams, int payloadBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] of = new int[events];
        for (int i = 0; i < events; i++) {
            of[i] = random.nextInt(streams);
        }
        return new Workload(names(prefix, streams), of, payload(random, payloadBytes));
    }

    /**
     * A warm-up shaped like the measured work it precedes: every other event goes to one of
     * {@code longStreams} streams named {@code prefix} + number (they grow long, so reading them
     * warms the multi-page read path), the rest to one of {@code wideStreams} streams named
     * {@code prefix} + "wide-" + number, as many as the measured work spreads over (up to a cap
     * the caller sets). Without the wide half, a warm-up of a hundred streams left the path of a
     * stream's first event uncompiled: a 100,000-stream window began with uncommon traps in the
     * stream table and the tail index (JFR: the writer reinterpreted at the first measured event)
     * and paid for the recompiling, about 1 us of JIT CPU per measured event.
     */
    static Workload warmUp(String prefix, int events, int longStreams, int wideStreams, int payloadBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        String[] longNames = names(prefix, longStreams);
        String[] wideNames = names(prefix + "wide-", wideStreams);
        String[] all = Arrays.copyOf(longNames, longStreams + wideStreams);
        System.arraycopy(wideNames, 0, all, longStreams, wideStreams);
        int[] of = new int[events];
        for (int i = 0; i < events; i++) {
            of[i] = i % 2 == 0 ? random.nextInt(longStreams) : longStreams + random.nextInt(wideStreams);
        }
        return new Workload(all, of, payload(random, payloadBytes));
    }

    /**
     * Exactly {@code perStream} events in each of {@code streams} streams, in a seeded shuffled
     * order, so each stream's events lie scattered through the log as they would in real life.
     */
    static Workload exact(String prefix, int streams, int perStream, int payloadBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] of = new int[Math.multiplyExact(streams, perStream)];
        for (int i = 0; i < of.length; i++) {
            of[i] = i % streams;
        }
        for (int i = of.length - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = of[i];
            of[i] = of[j];
            of[j] = t;
        }
        return new Workload(names(prefix, streams), of, payload(random, payloadBytes));
    }

    /** The first {@code n} events of this workload (the same streams and payload). */
    Workload first(int n) {
        return n >= streamOfEvent.length ? this : new Workload(streamNames, Arrays.copyOf(streamOfEvent, n), payload);
    }

    /** The names {@link #generate} gives {@code streams} streams with {@code prefix}. */
    static String[] names(String prefix, int streams) {
        int width = Integer.toString(Math.max(0, streams - 1)).length();
        String[] names = new String[streams];
        for (int s = 0; s < streams; s++) {
            names[s] = prefix + "0".repeat(width - Integer.toString(s).length()) + s;
        }
        return names;
    }

    private static byte[] payload(SplittableRandom random, int payloadBytes) {
        byte[] payload = new byte[payloadBytes];
        random.nextBytes(payload);
        return payload;
    }

    /** Stream number {@code s}'s name. */
    String streamName(int s) {
        return streamNames[s];
    }

    /** Streams named (used or not). */
    int streams() {
        return streamNames.length;
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

    /** Events of each stream number in this workload. */
    int[] eventsPerStream() {
        int[] counts = new int[streamNames.length];
        for (int s : streamOfEvent) {
            counts[s]++;
        }
        return counts;
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
