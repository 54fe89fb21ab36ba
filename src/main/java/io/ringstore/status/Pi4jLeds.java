package io.ringstore.status;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalOutputProvider;
import com.pi4j.io.gpio.digital.DigitalState;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.tinylog.Logger;

/**
 * The LEDs through Pi4J: one explicitly built context (no auto-detection, so no board-probing
 * noise) with the one output provider given, one digital output per enabled pin. Active-low
 * wiring is handled here; the LED logic only says on or off.
 */
public final class Pi4jLeds implements AutoCloseable {
    private final Context context;
    private final Map<Led, LedOutput> outputs;

    private Pi4jLeds(Context context, Map<Led, LedOutput> outputs) {
        this.context = context;
        this.outputs = outputs;
    }

    /** The outputs by LED (only the enabled ones). */
    public Map<Led, LedOutput> outputs() {
        return outputs;
    }

    /** Builds the LEDs on {@code provider} (the gpiod provider on a board, the mock one in tests). */
    public static Pi4jLeds create(DigitalOutputProvider provider, Map<Led, LedPin> pins) {
        Context context = Pi4J.newContextBuilder().noAutoDetect().add(provider).build();
        Map<Led, LedOutput> outputs = new EnumMap<>(Led.class);
        try {
            for (Map.Entry<Led, LedPin> e : pins.entrySet()) {
                LedPin pin = e.getValue();
                if (!pin.enabled()) {
                    continue;
                }
                DigitalState off = pin.activeLow() ? DigitalState.HIGH : DigitalState.LOW;
                DigitalOutput out = context.digitalOutput().create(DigitalOutput.newConfigBuilder(context)
                        .id("ringstore-" + e.getKey().name().toLowerCase(java.util.Locale.ROOT))
                        .name("ringstore " + e.getKey().name().toLowerCase(java.util.Locale.ROOT) + " LED")
                        .address(pin.bcm())
                        .initial(off)
                        .shutdown(off)
                        .provider(provider.id())
                        .build());
                outputs.put(e.getKey(), new PinOutput(out, pin.activeLow()));
            }
        } catch (RuntimeException ex) {
            context.shutdown();
            throw ex;
        }
        return new Pi4jLeds(context, outputs);
    }

    /**
     * Why LEDs cannot be driven on this machine, or null when a GPIO chip is there to try.
     * Off a Pi this is the one line the daemon logs about LEDs.
     */
    public static String unavailableReason(Path dev) {
        try (DirectoryStream<Path> chips = Files.newDirectoryStream(dev, "gpiochip*")) {
            for (Path chip : chips) {
                if (Files.isReadable(chip) && Files.isWritable(chip)) {
                    return null;
                }
                return "no permission on " + chip + " (add the user to the gpio group)";
            }
            return "no GPIO chip (" + dev + "/gpiochip*): not a Raspberry Pi, or GPIO not exposed";
        } catch (IOException e) {
            return "cannot list " + dev + ": " + e.getMessage();
        }
    }

    /** Whether the physical pin of {@code led} is high now (for status output and tests). */
    public boolean pinHigh(Led led) {
        LedOutput o = outputs.get(led);
        return o instanceof PinOutput p && p.out().state() == DigitalState.HIGH;
    }

    @Override
    public void close() {
        outputs.values().forEach(o -> o.set(false));
        context.shutdown();
    }

    /** One Pi4J output as an on/off light. */
    private record PinOutput(DigitalOutput out, boolean activeLow) implements LedOutput {
        @Override
        public void set(boolean on) {
            out.state(on != activeLow ? DigitalState.HIGH : DigitalState.LOW);
        }

        @Override
        public void close() {
            set(false);
        }
    }
}
