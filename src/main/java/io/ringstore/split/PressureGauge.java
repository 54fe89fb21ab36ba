package io.ringstore.split;

/**
 * Where the splitter gets its pressure signals. The daemon uses {@link SystemPressureGauge};
 * tests drive the splitter through the same interface.
 */
@FunctionalInterface
public interface PressureGauge {
    PressureReading read();
}
