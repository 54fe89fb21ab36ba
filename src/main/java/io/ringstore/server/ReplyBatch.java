package io.ringstore.server;

import io.ringstore.writer.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * The writer thread's acknowledgements of one batch, as the server sees them: while the writer
 * completes the batch's appends, each connection's answers queue in its {@link Outbound}; at the
 * batch's end the writer thread flushes each connection that got answers with one non-blocking
 * write (what the socket does not take, the {@link WritePoller} finishes). So a batch costs one
 * write per connection, not one per answer, and no thread wake-up.
 *
 * <p>Only the acknowledging thread opens and ends a batch, and only it adds to one; {@link #open}
 * is true only on the thread that opened it. That thread is the writer in a local store, and the
 * writer's ack releaser in a replica-mode store (there the writer never acknowledges): one thread
 * per store either way, so {@code touched} needs no lock.
 */
final class ReplyBatch implements Writer.AckScope {
    /**
     * The thread inside {@link #begin}..{@link #end}, else null. Plain: only the writer thread
     * writes it, and another thread can never read its own thread here.
     */
    private Thread owner;
    private final List<Outbound> touched = new ArrayList<>();

    @Override
    public void begin() {
        owner = Thread.currentThread();
    }

    @Override
    public void end() {
        owner = null;
        for (Outbound o : touched) {
            o.flush();
        }
        touched.clear();
    }

    /** Whether the current thread is acknowledging a batch (then answers wait for {@link #end}). */
    boolean open() {
        return owner == Thread.currentThread();
    }

    /** Called by an outbound the first time it queues an answer in this batch. */
    void add(Outbound o) {
        touched.add(o);
    }
}
