package io.ringstore.log;

import io.ringstore.log.proto.LogRecord;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads every frame of a stopped log, read-only, and reports what it finds: the offline
 * counterpart of recovery, which only scans the tail. Never changes a byte.
 */
public final class LogVerifier {
    private LogVerifier() {}

    /**
     * @param segments    segment files read
     * @param records     valid records read
     * @param streams     distinct streams seen
     * @param end         position after the last valid record
     * @param problems    damage to acknowledged history (or gaps in stream versions): non-empty means corrupt
     * @param tornTail    a torn, never-forced tail that the next open will cut, or null
     */
    public record Report(int segments, long records, int streams, long end, List<String> problems, String tornTail) {
        public boolean corrupt() {
            return !problems.isEmpty();
        }
    }

    /** Verifies the log in {@code logDir}, handing each valid record to {@code onRecord} in log order. */
    public static Report verify(Path logDir, Consumer<LogRecord> onRecord) throws IOException {
        List<Path> files = LogRecovery.segmentFiles(logDir);
        List<String> problems = new ArrayList<>();
        Map<String, Long> versions = new HashMap<>();
        long records = 0;
        long end = -1;
        String tornTail = null;
        long expectedBase = -1;
        try (Arena arena = Arena.ofConfined()) {
            List<MemorySegment> maps = new ArrayList<>();
            for (Path f : files) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    maps.add(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
                }
            }
            // A log whose first segments retention reclaimed starts each stream at whatever
            // version it still holds; one that starts at 0 holds every version.
            boolean fromStart = !files.isEmpty() && Segment.baseOf(files.getFirst()) == 0;
            boolean stopped = false;
            for (int i = 0; i < files.size() && !stopped; i++) {
                Path file = files.get(i);
                MemorySegment m = maps.get(i);
                long base = Segment.baseOf(file);
                SegmentHeader.Checked h = SegmentHeader.check(m);
                if (!h.ok() || h.base() != base || h.size() != m.byteSize()) {
                    problems.add("file=" + file + " offset=0 problem=" + (h.ok() ? "header does not match file name or size" : h.problem()));
                    break;
                }
                if (expectedBase >= 0 && base != expectedBase) {
                    problems.add("file=" + file + " offset=0 problem=gap in the log, expected a segment at " + expectedBase);
                }
                expectedBase = base + m.byteSize();
                long offset = SegmentHeader.LENGTH;
                while (true) {
                    FrameReader.Frame fr = FrameReader.read(m, base, offset);
                    if (fr.kind() == FrameReader.Kind.RECORD) {
                        LogRecord r = fr.record();
                        long previous = versions.getOrDefault(r.getStream(), fromStart ? -1L : r.getVersion() - 1);
                        if (r.getVersion() != previous + 1) {
                            problems.add("file=" + file + " offset=" + offset + " problem=stream " + r.getStream()
                                    + " version " + r.getVersion() + " follows " + previous);
                        }
                        versions.put(r.getStream(), r.getVersion());
                        onRecord.accept(r);
                        records++;
                        offset = fr.next();
                        end = base + offset;
                        continue;
                    }
                    if (fr.kind() == FrameReader.Kind.SEAL) {
                        end = base + offset;
                        break;
                    }
                    long at = base + offset;
                    long evidence = FrameReader.findDurableFrameAfter(m, base, offset + RecordFrame.ALIGNMENT, at);
                    for (int j = i + 1; evidence < 0 && j < files.size(); j++) {
                        evidence = FrameReader.findDurableFrameAfter(maps.get(j), Segment.baseOf(files.get(j)),
                                SegmentHeader.LENGTH, at);
                    }
                    String what = fr.kind() == FrameReader.Kind.EMPTY ? "zeroed frame" : fr.problem();
                    if (evidence >= 0) {
                        problems.add("file=" + file + " offset=" + offset + " problem=" + what
                                + "; the record at position " + evidence + " proves it had been forced");
                    } else if (FrameReader.endOfCut(m, base, offset) > offset) {
                        tornTail = "file=" + file + " offset=" + offset + " (" + what + "; never forced, cut at next open)";
                    }
                    end = at;
                    stopped = true;
                    break;
                }
            }
        }
        return new Report(files.size(), records, versions.size(), end, problems, tornTail);
    }
}
