package neuron.engine.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The graceful stop of a long-running command (SIGINT, SIGTERM), bounded in time whatever the loop is blocked on.
 * The signal asks the loop to stop ({@link #getAsBoolean()}, which the loop polls between steps or blocks); the
 * JVM exits once the loop has persisted its final checkpoint. If the loop does not notice the request within
 * {@link #noticeTimeout()} (its longest step so far, thrice, at least {@link #MIN_NOTICE}: it is blocked, not
 * slow), or its final checkpoint is not on disk within {@link #FINAL_CHECKPOINT}, the process exits anyway with
 * one line saying where the loop is: it loses what a SIGKILL would, and the next start resumes from the newest
 * checkpoint on disk or committed to staging.
 */
final class GracefulStop implements BooleanSupplier {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);
    static final Duration MIN_NOTICE = Duration.ofSeconds(15);
    static final Duration FINAL_CHECKPOINT = Duration.ofMinutes(30);

    private final Thread loop;
    /** Counted down when the loop sees the request, or the command ends without seeing it. */
    private final CountDownLatch noticed = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean requested;
    private volatile long lastPoll;
    private volatile long longestGap;

    /** @param loop the thread that runs the loop (for the line saying where it is) */
    GracefulStop(Thread loop) {
        this.loop = loop;
    }

    /** The loop's poll, between steps: whether a stop was asked for. */
    @Override
    public boolean getAsBoolean() {
        long now = System.nanoTime();
        long last = lastPoll;
        if (last != 0) {
            longestGap = Math.max(longestGap, now - last);
        }
        lastPoll = now;
        if (requested) {
            noticed.countDown();
            return true;
        }
        return false;
    }

    /** The command is done (its final checkpoint on disk, or it failed): the signal's wait ends. */
    void finished() {
        finished.countDown();
        noticed.countDown();
    }

    /** How long the loop gets to notice a stop: three of its longest steps so far, at least {@link #MIN_NOTICE}. */
    Duration noticeTimeout() {
        return Duration.ofNanos(Math.max(MIN_NOTICE.toNanos(), 3 * longestGap));
    }

    /** The shutdown hook: asks the loop to stop and waits for the command to finish, within the bounds above. */
    void onSignal() {
        LOG.info("stop requested: finishing the current step and writing a final checkpoint");
        requested = true;
        try {
            Duration notice = noticeTimeout();
            if (!noticed.await(notice.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.error("graceful stop: the loop did not reach the end of its step within {} s ({}); exiting "
                        + "without a final checkpoint: the next start resumes from the newest checkpoint on disk or "
                        + "committed to staging", notice.toSeconds(), where());
                return;
            }
            if (!finished.await(FINAL_CHECKPOINT.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.error("graceful stop: the final checkpoint was not on disk within {} min ({}); exiting: the "
                        + "next start persists what was committed to staging", FINAL_CHECKPOINT.toMinutes(), where());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Where the loop's thread is: its innermost frame and the innermost engine frame that led there. */
    private String where() {
        StackTraceElement[] stack = loop.getStackTrace();
        if (stack.length == 0) {
            return "thread " + loop.getName() + " " + loop.getState();
        }
        StringBuilder out = new StringBuilder("thread ").append(loop.getName()).append(" in ").append(frame(stack[0]));
        for (StackTraceElement e : stack) {
            if (e.getClassName().startsWith("neuron.engine.") && e != stack[0]) {
                out.append(" from ").append(frame(e));
                break;
            }
        }
        return out.toString();
    }

    private static String frame(StackTraceElement e) {
        String cls = e.getClassName();
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + e.getMethodName();
    }
}
