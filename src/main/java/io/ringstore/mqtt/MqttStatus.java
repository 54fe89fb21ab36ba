package io.ringstore.mqtt;

/**
 * The MQTT ingress as {@code ringstore status} and the status line show it.
 *
 * @param state             connected, connecting, unreachable (no broker answers) or refused (the
 *                          broker said no: credentials, client id, or not authorised)
 * @param broker            the broker's URL
 * @param messagesStored    messages stored and acknowledged since the daemon started (redeliveries
 *                          recognised by their event id included)
 * @param messagesPerSecond messages stored per second, over the last 10 seconds
 * @param failures          messages that could not be stored (acknowledged anyway, each in the journal)
 * @param replayed          redeliveries recognised by their event id and not stored again
 * @param lastError         the last connection or storage problem, empty when none
 */
public record MqttStatus(String state, String broker, long messagesStored, double messagesPerSecond, long failures,
                         long replayed, String lastError) {

    public boolean connected() {
        return state.equals("connected");
    }

    /** The status line's part, e.g. {@code mqtt=connected stored=120 msg/s=2.0 failures=0}. */
    public String linePart() {
        return String.format(java.util.Locale.ROOT, "mqtt=%s stored=%d msg/s=%.1f failures=%d%s", state, messagesStored,
                messagesPerSecond, failures, lastError.isEmpty() || connected() ? ""
                        : " mqtt_error=\"" + lastError.replace('"', '\'') + "\"");
    }
}
