package io.ringstore.consensus;

import io.microraft.executor.RaftNodeExecutor;
import io.microraft.lifecycle.RaftNodeLifecycleAware;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.tinylog.Logger;

/**
 * The one thread MicroRaft runs this voter on, named "group-raft-BOARD" for the journal and a
 * daemon thread so a daemon that fails before closing its voter still exits. A task that throws
 * is logged (MicroRaft's default executor would drop it silently inside a future).
 */
final class RaftThread implements RaftNodeExecutor, RaftNodeLifecycleAware {
    private final ScheduledThreadPoolExecutor executor;

    RaftThread(String board) {
        executor = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("group-raft-" + board).daemon().unstarted(r));
        executor.setRemoveOnCancelPolicy(true);
    }

    private static Runnable logged(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                Logger.error(e, "group Raft task failed");
            }
        };
    }

    @Override
    public void execute(Runnable task) {
        submit(task);
    }

    @Override
    public void submit(Runnable task) {
        try {
            executor.execute(logged(task));
        } catch (RejectedExecutionException e) {
            Logger.debug("group Raft thread stopped; task dropped");
        }
    }

    @Override
    public void schedule(Runnable task, long delay, TimeUnit unit) {
        try {
            executor.schedule(logged(task), delay, unit);
        } catch (RejectedExecutionException e) {
            Logger.debug("group Raft thread stopped; scheduled task dropped");
        }
    }

    @Override
    public void onRaftNodeTerminate() {
        executor.shutdown();
    }

    /** After a failed start, when MicroRaft never ran (so never terminates) this thread. */
    void shutdownNow() {
        executor.shutdownNow();
    }
}
