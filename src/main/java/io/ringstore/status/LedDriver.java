package io.ringstore.status;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * Drives the lights: every tick it reads the signals, asks {@link LedLogic} what each light
 * shows now, and sets only the outputs that change. A thread calls {@link #tick()} every
 * {@value #TICK_MILLIS} ms; tests call {@link #tick(long)} with their own clock.
 */
public final class LedDriver implements Runnable {
    static final long TICK_MILLIS = 20;

    private final Map<Led, LedOutput> outputs;
    private final Supplier<LedSignals> signals;
    private final LongSupplier clock;
    private final LedLogic logic = new LedLogic();
    private final Map<Led, Boolean> lit = new EnumMap<>(Led.class);
    private volatile Map<Led, LedPattern> patterns = LedLogic.patterns(LedSignals.IDLE);
    private long lastWriteLitNanos = Long.MIN_VALUE / 2;
    private volatile boolean stopping;

    public LedDriver(Map<Led, LedOutput> outputs, Supplier<LedSignals> signals, LongSupplier clock) {
        this.outputs = outputs;
        this.signals = signals;
        this.clock = clock;
        for (Led led : Led.values()) {
            lit.put(led, false);
        }
    }

    public void tick() {
        tick(clock.getAsLong());
    }

    /** One step at {@code nowNanos}. */
    public synchronized void tick(long nowNanos) {
        LedSignals s = signals.get();
        Map<Led, Boolean> lights = logic.lights(s, nowNanos);
        if (lights.get(Led.WRITE)) {
            lastWriteLitNanos = nowNanos;
        }
        Map<Led, LedPattern> p = new EnumMap<>(LedLogic.patterns(s));
        // For people reading `status`: the write light is "flash" while writes come, else "off".
        p.put(Led.WRITE, nowNanos - lastWriteLitNanos < 1_000_000_000L ? LedPattern.FLASH : LedPattern.OFF);
        patterns = p;
        for (Map.Entry<Led, Boolean> e : lights.entrySet()) {
            if (!e.getValue().equals(lit.get(e.getKey()))) {
                lit.put(e.getKey(), e.getValue());
                LedOutput out = outputs.get(e.getKey());
                if (out != null) {
                    try {
                        out.set(e.getValue());
                    } catch (RuntimeException ex) {
                        Logger.warn("setting LED {} failed: {}", e.getKey(), ex.toString());
                    }
                }
            }
        }
    }

    /** What each light is doing now, for the status output. */
    public Map<Led, LedPattern> patterns() {
        return patterns;
    }

    /** Whether each light is lit right now. */
    public synchronized Map<Led, Boolean> lit() {
        return new EnumMap<>(lit);
    }

    @Override
    public void run() {
        while (!stopping) {
            tick();
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                break;
            }
        }
        for (LedOutput out : outputs.values()) {
            out.set(false);
        }
    }

    public void stop() {
        stopping = true;
    }
}
