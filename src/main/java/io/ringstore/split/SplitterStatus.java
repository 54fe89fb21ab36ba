package io.ringstore.split;

/**
 * The splitter's state and how far behind the writer it is.
 *
 * @param state         what it is doing
 * @param position      log position of the oldest unsplit event: every event before it is durable in its stream file
 * @param lagEvents     events written but not yet split
 * @param lagBytes      log bytes between the split position and the committed position
 * @param lagSeconds    age of the oldest unsplit event
 * @param windows       passes (batches of stream writes, one sync each) since start
 * @param eventsSplit   events split since start
 * @param openFiles     stream files held open now
 * @param lagging       behind by more than a window's worth (bytes, or twice its time): the
 *                      lag that a working splitter always has does not count
 * @param lastFailure   why the last pass failed, when it failed after the last good one (null:
 *                      the last pass worked); the pass is retried, the log keeps every event
 * @param lostVersions  versions that rebuilds of damaged stream files since start could not keep
 *                      (in neither the file's sound part nor the log): a person should look
 */
public record SplitterStatus(SplitterState state, long position, long lagEvents, long lagBytes, double lagSeconds,
                             long windows, long eventsSplit, int openFiles, boolean lagging,
                             String lastFailure, long lostVersions) {}
