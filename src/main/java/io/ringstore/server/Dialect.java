package io.ringstore.server;

/** What a socket speaks: ringstore.proto's varint-delimited frames, or JSON lines (README "JSON lines"). */
enum Dialect {
    PROTOBUF,
    JSON_LINES;

    AnswerEncoder encoder() {
        return this == PROTOBUF ? AnswerEncoder.frames() : AnswerEncoder.jsonLines();
    }
}
