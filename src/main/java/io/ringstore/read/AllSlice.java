package io.ringstore.read;

import io.ringstore.log.proto.LogRecord;
import java.util.List;

/**
 * A page of the {@code $all} order, as {@link AllReader} returns it.
 *
 * @param records the visible records, in position order; fewer than asked (even none) when the
 *                page reached the committed position or skipped as many hidden records as one
 *                page may
 * @param next    where the next page starts: past every record this page returned or skipped
 * @param end     whether the page reached the committed position (as it was when read)
 * @param hidden  records this page skipped because a stream read would not return them
 */
public record AllSlice(List<LogRecord> records, long next, boolean end, int hidden) {}
