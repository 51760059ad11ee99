package neuron.engine.backup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one {@link Agent} on a thread of its own: {@code doWork} again at once while it finds work, otherwise the
 * thread parks until {@link #wake()} or, at the latest, the agent's next deadline; every throwable goes to the
 * error handler and the duty cycle goes on.
 */
final class AgentRunner {
    private static final Logger LOG = LoggerFactory.getLogger(AgentRunner.class);
    /** The longest park: a deadline is seen at most this late. */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /** Long-running work in a duty cycle. */
    interface Agent {
        /** Does one unit of work; returns how much it did (0: nothing to do now). */
        int doWork() throws Exception;

        String roleName();
    }

    private final Agent agent;
    private final Consumer<Throwable> errorHandler;
    private final Semaphore wakeUp = new Semaphore(0);
    private final Thread thread;
    private volatile boolean running = true;

    AgentRunner(Agent agent, Consumer<Throwable> errorHandler) {
        this.agent = agent;
        this.errorHandler = errorHandler;
        this.thread = new Thread(this::run, agent.roleName());
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Ends a park now: new work arrived. */
    void wake() {
        wakeUp.release();
    }

    private void run() {
        while (running) {
            int work;
            try {
                work = agent.doWork();
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                errorHandler.accept(t);
                work = 0;
            }
            if (work == 0 && running) {
                try {
                    wakeUp.tryAcquire(MAX_PARK_NANOS, TimeUnit.NANOSECONDS);
                    wakeUp.drainPermits();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Stops the duty cycle: waits up to {@code timeout} for the current unit of work, then abandons it. */
    void stop(Duration timeout) throws InterruptedException {
        running = false;
        wake();
        thread.join(timeout.toMillis());
        if (thread.isAlive()) {
            thread.interrupt();
            LOG.debug("{} abandoned its current work", agent.roleName());
        }
    }
}
