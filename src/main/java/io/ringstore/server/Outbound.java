package io.ringstore.server;

import io.ringstore.protocol.Framing;
import io.ringstore.protocol.v1.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import org.tinylog.Logger;

/**
 * The sending half of one connection: a thread that takes queued responses, writes as many as
 * are waiting in one write, then runs each one's release (which gives back the in-flight permit,
 * the request bytes or the subscriber's buffer bytes). Releasing only after the write is what
 * makes those bounds hold while a client is slow to read.
 *
 * <p>The queue has no capacity of its own: everything put in it holds a permit of some bound
 * (in-flight requests, subscriber buffer), except the one error that precedes a close.
 * After a write fails the thread keeps taking and releasing, without writing, until
 * {@link #finish} so that nothing held for this connection leaks.
 */
final class Outbound implements Runnable {
    private static final int MAX_BATCH = 256;
    private static final int KEEP_BUFFER_BYTES = 256 << 10;
    private static final Runnable NOTHING = () -> {};

    private record Item(Response response, Runnable release) {}

    private static final Item FINISH = new Item(null, NOTHING);

    private final SocketChannel channel;
    private final String name;
    private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private volatile boolean broken;

    Outbound(SocketChannel channel, String name) {
        this.channel = channel;
        this.name = name;
    }

    /** Queues a response; {@code release} runs once it was written (or dropped with the connection). */
    void send(Response response, Runnable release) {
        queue.add(new Item(response, release == null ? NOTHING : release));
    }

    void send(Response response) {
        send(response, NOTHING);
    }

    /** Asks the thread to write what is queued, then close the channel and end. */
    void finish() {
        queue.add(FINISH);
    }

    boolean broken() {
        return broken;
    }

    @Override
    public void run() {
        Framing.Writer frames = new Framing.Writer(64 << 10);
        List<Item> batch = new ArrayList<>(MAX_BATCH);
        boolean finishing = false;
        try {
            while (!finishing) {
                batch.add(take());
                queue.drainTo(batch, MAX_BATCH - 1);
                for (Item item : batch) {
                    if (item == FINISH) {
                        finishing = true;
                    } else if (!broken) {
                        frames.add(item.response());
                    }
                }
                if (!broken && frames.size() > 0) {
                    write(frames.buffer());
                }
                frames.reset(KEEP_BUFFER_BYTES);
                for (Item item : batch) {
                    item.release().run();
                }
                batch.clear();
            }
        } finally {
            closeChannel();
            // Whatever raced in after the finish still holds permits: give them back.
            List<Item> rest = new ArrayList<>();
            queue.drainTo(rest);
            rest.forEach(i -> i.release().run());
        }
    }

    private Item take() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                // Never interrupted on purpose; finish() is the way to stop.
                Logger.debug("{} outbound interrupted, ignoring", name);
            }
        }
    }

    private void write(ByteBuffer buffer) {
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            broken = true;
            Logger.debug("{} write failed, dropping its responses: {}", name, e.toString());
            closeChannel();
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
