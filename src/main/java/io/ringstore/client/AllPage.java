package io.ringstore.client;

import java.util.List;

/**
 * A page of the {@code $all} order.
 *
 * @param events       in log order
 * @param nextPosition where the next page starts
 * @param end          whether the page reached what was committed
 */
public record AllPage(List<RecordedEvent> events, long nextPosition, boolean end) {}
