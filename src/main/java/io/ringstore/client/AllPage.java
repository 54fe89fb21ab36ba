package io.ringstore.client;

import java.util.List;

/**
 * A page of the {@code $all} order: the events a stream read would return (those past their
 * stream's retention limits are left out; {@code $$} metadata events are not).
 *
 * @param events       in log order; fewer than asked, even none, when the page skipped as many
 *                     hidden events as one page may (then {@code end} is false: read on)
 * @param nextPosition where the next page starts, past every event this page returned or skipped
 * @param end          whether the page reached what was committed
 */
public record AllPage(List<RecordedEvent> events, long nextPosition, boolean end) {}
