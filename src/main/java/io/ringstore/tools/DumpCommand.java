package io.ringstore.tools;

import io.ringstore.cli.Args;
import io.ringstore.cli.ExitCodes;
import io.ringstore.log.LogVerifier;
import io.ringstore.log.proto.LogRecord;
import io.ringstore.store.DataDirLock;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/** {@code ringstore dump --data DIR}: prints the records of a stopped store as JSON lines. */
public final class DumpCommand {
    private DumpCommand() {}

    public static int run(String[] args) {
        Path data;
        long from;
        long count;
        try {
            Args a = Args.parse(args, Set.of("--data", "--from", "--count"), Set.of());
            if (!a.has("--data")) {
                throw new Args.UsageException("--data DIR is required");
            }
            data = Path.of(a.get("--data", null));
            from = a.getLong("--from", 0);
            count = a.getLong("--count", Long.MAX_VALUE);
        } catch (Args.UsageException e) {
            System.err.println("dump: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (!Files.isDirectory(data.resolve("log"))) {
            System.err.println("dump: no main log in " + data);
            return ExitCodes.USAGE;
        }
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        long[] printed = new long[1];
        try (DataDirLock lock = DataDirLock.acquire(data)) {
            LogVerifier.Report r = LogVerifier.verify(data.resolve("log"), record -> {
                if (record.getPosition() >= from && printed[0] < count) {
                    try {
                        out.write(toJson(record));
                        out.write('\n');
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    printed[0]++;
                }
            });
            out.flush();
            if (r.corrupt()) {
                System.err.println("dump: stopped at damage: " + r.problems().getFirst());
                return ExitCodes.CORRUPTION_FOUND;
            }
            return ExitCodes.OK;
        } catch (DataDirLock.LockedException e) {
            System.err.println("dump: " + e.getMessage() + "; stop the store first");
            return ExitCodes.LOCKED;
        } catch (IOException | UncheckedIOException e) {
            System.err.println("dump: " + e);
            return ExitCodes.IO_ERROR;
        }
    }

    /** One record as a JSON object; data and metadata as UTF-8 text when they are, else base64. */
    public static String toJson(LogRecord r) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"position\":").append(r.getPosition())
                .append(",\"stream\":").append(quote(r.getStream()))
                .append(",\"version\":").append(r.getVersion())
                .append(",\"eventId\":\"").append(HexFormat.of().formatHex(r.getEventId().toByteArray())).append('"')
                .append(",\"type\":").append(quote(r.getType()))
                .append(",\"timestampMicros\":").append(r.getTimestampMicros());
        bytesField(sb, "data", r.getData().toByteArray());
        if (!r.getMetadata().isEmpty()) {
            bytesField(sb, "metadata", r.getMetadata().toByteArray());
        }
        return sb.append('}').toString();
    }

    private static void bytesField(StringBuilder sb, String name, byte[] bytes) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            sb.append(",\"").append(name).append("\":").append(quote(text));
        } catch (CharacterCodingException e) {
            sb.append(",\"").append(name).append("Base64\":\"").append(Base64.getEncoder().encodeToString(bytes)).append('"');
        }
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        io.ringstore.jsonlines.Json.quote(s, sb);
        return sb.toString();
    }
}
