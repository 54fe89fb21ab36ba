package io.ringstore.split;

import io.ringstore.writer.Writer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tinylog.Logger;

/**
 * The real signals: Linux PSI for I/O (when the kernel has it), the writer's queue and its force
 * latency against the card's own baseline. Read from one thread (the splitter's).
 */
public final class SystemPressureGauge implements PressureGauge {
    public static final Path PSI_IO = Path.of("/proc/pressure/io");

    private final Writer writer;
    private final int queueCapacity;
    private final Path psiFile;
    private final ForceLatencySignal forces;
    private long forcesSeen;
    private boolean psiAbsent;

    public SystemPressureGauge(Writer writer, int queueCapacity, Path psiFile, PressurePolicy policy) {
        this.writer = writer;
        this.queueCapacity = queueCapacity;
        this.psiFile = psiFile;
        this.forces = new ForceLatencySignal(policy.forceWindowMillis(), policy.forceBaselineWindows(),
                policy.forceFloorMicros());
        if (!Files.isReadable(psiFile)) {
            psiAbsent = true;
            Logger.info("I/O pressure (PSI) not available at {}: the splitter watches the writer's queue and force latency only",
                    psiFile);
        }
    }

    @Override
    public PressureReading read() {
        long now = System.nanoTime();
        forcesSeen = writer.forceLatenciesSince(forcesSeen, micros -> forces.add(micros, now));
        return new PressureReading(psi(), (double) writer.queueDepth() / queueCapacity, forces.slowdown(now));
    }

    private double psi() {
        if (psiAbsent) {
            return Double.NaN;
        }
        try {
            return parseSomeAvg10(Files.readString(psiFile));
        } catch (IOException | RuntimeException e) {
            psiAbsent = true;
            Logger.warn("reading {} failed, ignoring PSI from now on: {}", psiFile, e.toString());
            return Double.NaN;
        }
    }

    /** Parses "some avg10=1.23 avg60=... total=..." from a PSI file. */
    static double parseSomeAvg10(String content) {
        for (String line : content.split("\n")) {
            if (line.startsWith("some ")) {
                for (String field : line.split(" ")) {
                    if (field.startsWith("avg10=")) {
                        return Double.parseDouble(field.substring(6));
                    }
                }
            }
        }
        throw new IllegalArgumentException("no 'some avg10' in PSI content");
    }
}
