package io.ringstore.status;

/**
 * How one LED is wired.
 *
 * @param bcm       BCM GPIO number, or -1 when this LED is disabled
 * @param activeLow true when the LED lights with the pin low (wired from 3V3 to the pin)
 */
public record LedPin(int bcm, boolean activeLow) {
    public static final LedPin DISABLED = new LedPin(-1, false);

    public LedPin {
        if (bcm < -1 || bcm > 27) {
            throw new IllegalArgumentException("BCM pin must be 0..27 (or -1 to disable): " + bcm);
        }
    }

    public boolean enabled() {
        return bcm >= 0;
    }

    /** Parses "17", "17:low", "17:high" or "off". */
    public static LedPin parse(String s) {
        String v = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("off") || v.equals("none") || v.equals("-1")) {
            return DISABLED;
        }
        String[] parts = v.split(":");
        boolean low = parts.length > 1 && parts[1].equals("low");
        if (parts.length > 1 && !parts[1].equals("low") && !parts[1].equals("high")) {
            throw new IllegalArgumentException("LED pin must be N, N:high, N:low or off: " + s);
        }
        try {
            return new LedPin(Integer.parseInt(parts[0]), low);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LED pin must be N, N:high, N:low or off: " + s);
        }
    }

    @Override
    public String toString() {
        return enabled() ? "GPIO" + bcm + (activeLow ? " (active-low)" : "") : "off";
    }
}
