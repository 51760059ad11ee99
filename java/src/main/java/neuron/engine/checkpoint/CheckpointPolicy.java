package neuron.engine.checkpoint;

/**
 * When a loop checkpoints, for miner and validator alike: a trigger fires at the first progress value (step or
 * block) at or past each multiple of the interval, so a feed that jumps over a multiple still checkpoints; and
 * a trigger is admitted only when staging has room for it. No other class does trigger arithmetic.
 *
 * <p>Not thread-safe: the loop's thread asks it.
 */
public final class CheckpointPolicy {
    private final long interval;
    private long lastTrigger;
    private boolean started;

    /** @param interval steps (or blocks) between checkpoints; 1 checkpoints after every step */
    public CheckpointPolicy(long interval) {
        this.interval = checkInterval(interval);
    }

    /** Returns {@code interval} if a policy can have it, else throws with the line a user reads. */
    public static long checkInterval(long interval) {
        if (interval <= 0) {
            throw new UsageException("--checkpoint_interval must be positive, got " + interval);
        }
        return interval;
    }

    public long interval() {
        return interval;
    }

    /**
     * Sets the progress of the newest checkpoint (-1 for none): the next trigger is at the first multiple past
     * it. Called by the checkpointer once the newest checkpoint is known, unless the loop called it already.
     */
    void startFrom(long progress) {
        if (!started) {
            lastTrigger = progress;
            started = true;
        }
    }

    /**
     * The loop resumed from a checkpoint of {@code progress} (which may be a backup or a fetched file, not the one
     * the checkpointer found at open): the next trigger is at the first multiple past it, not earlier.
     */
    void resumedAt(long progress) {
        startFrom(progress);
        lastTrigger = Math.max(lastTrigger, progress);
    }

    /** Whether a trigger fires at {@code progress}; a trigger that fires is consumed, taken or not. */
    public boolean due(long progress) {
        if (!started) {
            startFrom(-1);
        }
        // Division truncates towards zero, so a fresh start (-1) first fires at the interval itself.
        if (progress / interval > lastTrigger / interval) {
            lastTrigger = progress;
            return true;
        }
        return false;
    }

    /**
     * Admission of a snapshot of {@code bytes}: null when staging can take it, else why not (for the log line).
     * A snapshot waiting to be persisted never blocks a newer one: the newer one replaces it once committed.
     *
     * @param free bytes free on the staging file system
     */
    String refusal(long free, long bytes) {
        if (free < bytes + (bytes >> 3) + (1 << 20)) {
            return "staging has " + Sizes.human(free) + " free, the snapshot needs " + Sizes.human(bytes);
        }
        return null;
    }
}
