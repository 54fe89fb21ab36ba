package io.ringstore.error;

/** An append's expected version did not hold; carries the stream's current version (-1: no stream). */
public final class WrongExpectedVersionException extends RingStoreException {
    private final long currentVersion;

    public WrongExpectedVersionException(String stream, String expected, long currentVersion) {
        super(ErrorCode.WRONG_EXPECTED_VERSION, "wrong expected version: stream=" + stream + " expected=" + expected
                + " current=" + (currentVersion < 0 ? "no-stream" : Long.toString(currentVersion)));
        this.currentVersion = currentVersion;
    }

    public long currentVersion() {
        return currentVersion;
    }
}
