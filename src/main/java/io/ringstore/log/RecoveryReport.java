package io.ringstore.log;

import java.nio.file.Path;
import java.util.List;

/**
 * What opening the main log did: where the scan started, what it read, what it cut.
 *
 * @param scanFrom        position the scan started at (a checkpoint's, or the log's start)
 * @param fromCheckpoint  whether scanFrom came from a stream-table checkpoint
 * @param segments        segment files present
 * @param recordsScanned  records read by the scan
 * @param bytesScanned    bytes of frames read by the scan
 * @param end             position where the next record will be written
 * @param cutFile         file where a torn tail or (with repair) damage was cut, or null
 * @param cutOffset       offset of the cut in that file, or -1
 * @param cutBytes        non-zero bytes that were zeroed by the cut
 * @param setAside        segment files renamed aside by a repair
 * @param removedEmpty    empty segment files removed (an interrupted roll)
 * @param millis          time the scan took
 */
public record RecoveryReport(long scanFrom, boolean fromCheckpoint, int segments, long recordsScanned,
                             long bytesScanned, long end, Path cutFile, long cutOffset, long cutBytes,
                             List<Path> setAside, List<Path> removedEmpty, long millis) {

    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("recovery scanFrom=").append(scanFrom).append(fromCheckpoint ? " (checkpoint)" : " (log start)")
                .append(" segments=").append(segments).append(" records=").append(recordsScanned)
                .append(" bytes=").append(bytesScanned).append(" end=").append(end).append(" ms=").append(millis);
        if (cutFile != null) {
            sb.append(" cut file=").append(cutFile).append(" offset=").append(cutOffset).append(" bytes=").append(cutBytes);
        }
        if (!setAside.isEmpty()) {
            sb.append(" setAside=").append(setAside);
        }
        if (!removedEmpty.isEmpty()) {
            sb.append(" removedEmpty=").append(removedEmpty);
        }
        return sb.toString();
    }
}
