package io.ringstore.bench;

/**
 * Steady appends on other streams while something else is measured (reads): a paced
 * {@link LoadDriver} on its own thread, generated for up to {@link #MAX_SECONDS} and stopped when
 * the measurement is done.
 */
final class BackgroundIngest {
    /** Background appends are generated for this long at most (the arrays are sized by it). */
    static final int MAX_SECONDS = 300;

    private final LoadDriver driver;
    private final Thread thread;
    private volatile LoadDriver.Result result;

    private BackgroundIngest(LoadDriver driver) {
        this.driver = driver;
        this.thread = Thread.ofPlatform().name("bench-ingest").unstarted(() -> {
            try {
                result = driver.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * Starts {@code rate} appends/s to {@code streams} streams named "bg-..." and returns once a
     * quarter second of them has been acknowledged (so what is measured next runs under load).
     */
    static BackgroundIngest start(AppendTarget target, int streams, int payloadBytes, long seed, int producers,
                                  int depth, double rate) throws InterruptedException {
        Workload w = Workload.generate("bg-", (int) Math.min(Integer.MAX_VALUE - 8, (long) (rate * MAX_SECONDS)),
                streams, payloadBytes, seed);
        BackgroundIngest b = new BackgroundIngest(new LoadDriver(target, w, producers, depth, rate));
        b.thread.start();
        long warm = Math.max(1, (long) (rate / 4));
        while (b.driver.completed() < warm && b.thread.isAlive()) {
            Thread.sleep(5);
        }
        return b;
    }

    /** Appends acknowledged (or failed) so far. */
    long completed() {
        return driver.completed();
    }

    /** Stops the appends, waits for those in flight, and returns what the ingest did. */
    LoadDriver.Result stop() throws InterruptedException {
        driver.stop();
        thread.join();
        return result;
    }
}
