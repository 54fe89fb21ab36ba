package io.ringstore.server;

import io.ringstore.protocol.v1.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.tinylog.Logger;

/**
 * The sending half of one connection, without a thread of its own: the thread that queues an
 * answer writes it to the (non-blocking) socket at once, with whatever else is queued, unless
 * another thread is writing for this connection already (that one takes it). What the socket
 * does not take goes on in the server's {@link WritePoller} once the socket takes bytes again.
 * After a chunk of answers is written, each one's release runs (it gives back the in-flight
 * permit, the request bytes or the subscriber's buffer bytes); releasing only after the write is
 * what makes those bounds hold while a client is slow to read.
 *
 * <p>Answers the writer thread queues while it acknowledges a batch (see {@link ReplyBatch})
 * wait for the batch's end and go out in one write per connection.
 *
 * <p>The queue has no capacity of its own: everything put in it holds a permit of some bound
 * (in-flight requests, subscriber buffer), except the one error that precedes a close. After a
 * write fails, answers are released without writing; after {@link #finish} wrote the rest and
 * closed the channel, an answer is released as it comes, so that nothing held for this
 * connection leaks.
 */
final class Outbound {
    private static final int KEEP_BUFFER_BYTES = 256 << 10;
    private static final Runnable NOTHING = () -> {};

    private final SocketChannel channel;
    private final String name;
    private final ReplyBatch batch;
    private final WritePoller poller;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private List<Response> responses = new ArrayList<>();
    private List<Runnable> releases = new ArrayList<>();
    /** A thread (a sender, or the poller) writes for this connection and takes what is queued. */
    private boolean writing;
    private boolean inBatch;
    private boolean finishAsked;
    private boolean closed;
    // Owned by the thread that set writing.
    private final AnswerEncoder frames;
    private List<Response> taken = new ArrayList<>();
    private List<Runnable> toRelease = new ArrayList<>();
    private ByteBuffer out;
    private volatile boolean broken;

    Outbound(SocketChannel channel, String name, ReplyBatch batch, WritePoller poller, AnswerEncoder encoder) {
        this.channel = channel;
        this.frames = encoder;
        this.name = name;
        this.batch = batch;
        this.poller = poller;
    }

    SocketChannel channel() {
        return channel;
    }

    /** Queues a response; {@code release} runs once it was written (or dropped with the connection). */
    void send(Response response, Runnable release) {
        Runnable r = release == null ? NOTHING : release;
        boolean join = false;
        lock.lock();
        try {
            if (closed) {
                join = true; // released below, never written
            } else {
                responses.add(response);
                releases.add(r);
                if (batch.open()) {
                    if (!inBatch) {
                        inBatch = true;
                        batch.add(this);
                    }
                    return;
                }
                if (writing) {
                    return;
                }
                writing = true;
            }
        } finally {
            lock.unlock();
        }
        if (join) {
            r.run();
            return;
        }
        drain();
    }

    void send(Response response) {
        send(response, NOTHING);
    }

    /** The writer's batch ended: write what it queued here. */
    void flush() {
        lock.lock();
        try {
            inBatch = false;
            if (writing || responses.isEmpty()) {
                return;
            }
            writing = true;
        } finally {
            lock.unlock();
        }
        drain();
    }

    /** Asks that what is queued be written, then the channel closed (see {@link #awaitEnd}). */
    void finish() {
        lock.lock();
        try {
            finishAsked = true;
            if (writing) {
                return;
            }
            writing = true;
        } finally {
            lock.unlock();
        }
        drain();
    }

    /** Waits until {@link #finish} has written everything and closed the channel. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    boolean broken() {
        return broken;
    }

    /**
     * Writes what is queued until nothing is, or the socket takes no more (then the poller goes
     * on later). Only the thread that set {@code writing} calls this.
     */
    void drain() {
        while (true) {
            if (out == null || !out.hasRemaining()) {
                for (Runnable r : toRelease) {
                    r.run();
                }
                toRelease.clear();
                out = null;
                lock.lock();
                try {
                    if (responses.isEmpty()) {
                        if (finishAsked && !closed) {
                            closed = true;
                            closeChannel();
                            ended.countDown();
                        }
                        writing = false;
                        return;
                    }
                    List<Response> r = responses;
                    responses = taken;
                    taken = r;
                    List<Runnable> x = releases;
                    releases = toRelease;
                    toRelease = x;
                } finally {
                    lock.unlock();
                }
                frames.reset(KEEP_BUFFER_BYTES);
                if (!broken) {
                    try {
                        for (Response response : taken) {
                            frames.add(response);
                        }
                        out = frames.buffer();
                    } catch (RuntimeException e) {
                        // A bug, not the client's doing; never let it out to the writer thread.
                        Logger.error(e, "{} answer could not be encoded, closing the connection", name);
                        broken = true;
                        closeChannel();
                    }
                }
                taken.clear();
                continue;
            }
            try {
                channel.write(out);
            } catch (IOException e) {
                broken = true;
                out = null;
                Logger.debug("{} write failed, dropping its responses: {}", name, e.toString());
                closeChannel();
                continue;
            }
            if (out.hasRemaining()) {
                poller.await(this); // still writing: the poller goes on when the socket takes bytes
                return;
            }
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            Logger.debug("{} close failed: {}", name, e.toString());
        }
    }
}
