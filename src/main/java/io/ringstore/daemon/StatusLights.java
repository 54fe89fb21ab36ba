package io.ringstore.daemon;

import com.pi4j.plugin.gpiod.provider.gpio.digital.GpioDDigitalOutputProvider;
import io.ringstore.status.Led;
import io.ringstore.status.LedDriver;
import io.ringstore.status.LedOutput;
import io.ringstore.status.LedPattern;
import io.ringstore.status.LedPin;
import io.ringstore.status.LedSignals;
import io.ringstore.status.Pi4jLeds;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.tinylog.Logger;

/**
 * A daemon's status LEDs: the GPIO pins when the board has them and they are enabled, and the
 * LED logic on its own thread either way (without pins, `status` still reports what the lights
 * would show). One for the data daemon and the witness alike.
 */
final class StatusLights {
    private static final long THREAD_STOP_MILLIS = 5_000;

    private final Pi4jLeds leds;
    private final LedDriver driver;
    private final Thread thread;

    private StatusLights(Pi4jLeds leds, LedDriver driver) {
        this.leds = leds;
        this.driver = driver;
        this.thread = Thread.ofPlatform().name("ringstore-leds").daemon().start(driver);
    }

    /**
     * Opens the pins (when {@code enabled} and GPIO is there) and starts the LED thread on
     * {@code signals}; {@code describePins} says in the journal which pins drive which light.
     */
    static StatusLights start(boolean enabled, Map<Led, LedPin> pins, Supplier<LedSignals> signals,
                              Function<Map<Led, LedPin>, String> describePins) {
        Pi4jLeds leds = null;
        Map<Led, LedOutput> outputs = Map.of();
        if (!enabled) {
            Logger.info("status LEDs off by configuration");
        } else {
            String reason = Pi4jLeds.unavailableReason(Path.of("/dev"));
            if (reason != null) {
                Logger.info("status LEDs disabled: {}", reason);
            } else {
                try {
                    leds = Pi4jLeds.create(GpioDDigitalOutputProvider.newInstance(), pins);
                    outputs = leds.outputs();
                    Logger.info("status LEDs: {}", describePins.apply(pins));
                } catch (RuntimeException | LinkageError e) {
                    Logger.info("status LEDs disabled: GPIO could not be opened ({})", e.toString());
                    leds = null;
                }
            }
        }
        return new StatusLights(leds, new LedDriver(outputs, signals, System::nanoTime));
    }

    /** What each light shows now. */
    Map<Led, LedPattern> patterns() {
        return driver.patterns();
    }

    /** Whether pins drive real lights. */
    boolean driven() {
        return leds != null && !leds.outputs().isEmpty();
    }

    /** Stops the LED thread and waits for it (it turns the lights off as it ends). */
    void stopThread() {
        driver.stop();
        thread.interrupt();
        try {
            if (!thread.join(java.time.Duration.ofMillis(THREAD_STOP_MILLIS))) {
                Logger.warn("thread {} did not stop within {} ms", thread.getName(), THREAD_STOP_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Leaves the fault light on as the process exits (the kernel keeps the line's last value). */
    void holdFault() {
        // First the LED thread ends (it turns every light off as it does), then the fault light goes on.
        stopThread();
        if (leds != null && leds.outputs().get(Led.FAULT) != null) {
            leds.outputs().get(Led.FAULT).set(true);
        }
    }

    /** Stops the thread and releases the pins. */
    void close() {
        stopThread();
        if (leds != null) {
            try {
                leds.close();
            } catch (RuntimeException e) {
                Logger.warn("turning LEDs off failed: {}", e.toString());
            }
        }
    }
}
