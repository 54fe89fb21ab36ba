package io.ringstore.status;

/**
 * One light, as the LED logic sees it: on or off. Whether "on" drives the pin high or low, and
 * which GPIO provider does it, is the implementation's business ({@link Pi4jLeds}).
 */
public interface LedOutput extends AutoCloseable {
    void set(boolean on);

    @Override
    void close();
}
