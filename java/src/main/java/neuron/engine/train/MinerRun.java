package neuron.engine.train;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.torch.TensorTrees;
import neuron.engine.torch.TensorTreeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A miner from start to stop: resume from the newest valid checkpoint (no flag needed), train, take a snapshot
 * every {@code checkpointInterval} steps (copied while the next step's forward and backward run; the optimizer
 * update waits for the copy), and on a graceful stop (a signal, or {@code maxSteps}) take a final
 * checkpoint and wait until it is on disk.
 */
public final class MinerRun {
    private static final Logger LOG = LoggerFactory.getLogger(MinerRun.class);
    public static final String PROGRESS_KEY = "global_step";
    private static final Duration FINAL_PERSIST_WAIT = Duration.ofMinutes(30);

    /**
     * @param maxSteps stop once {@code global_step} reaches it; 0 runs until stopped
     */
    public record Settings(MinerOptions options, CheckpointConfig checkpoint, long checkpointInterval,
                           long maxSteps) {
        public Settings {
            CheckpointPolicy.checkInterval(checkpointInterval);
            if (maxSteps < 0) {
                throw new IllegalArgumentException("--max_steps must be 0 (run until stopped) or more, got " + maxSteps);
            }
        }
    }

    /** Sees every step, between steps on the loop's thread (status line, metrics, publishing updates). */
    @FunctionalInterface
    public interface StepObserver {
        void stepDone(MinerLoop loop, float loss, double tokensPerSecond, Checkpointer checkpointer);
    }

    private MinerRun() {
    }

    /** How a run finds the state it resumes from, once its checkpointer is open; empty starts fresh. */
    @FunctionalInterface
    public interface Resume {
        Optional<MinerLoop> restore() throws IOException;
    }

    /** Runs until {@code stop} says so or {@code maxSteps} is reached; returns the final global step. */
    public static long run(Settings settings, CheckpointListener listener, StepObserver observer,
                           BooleanSupplier stop) throws IOException, InterruptedException {
        return run(settings, Replica.ALONE, new CheckpointPolicy(settings.checkpointInterval()),
                () -> newestCheckpoint(settings), listener, observer, stop);
    }

    /**
     * As {@link #run(Settings, CheckpointListener, StepObserver, BooleanSupplier)}, as {@code replica}'s rank of
     * a data-parallel group (its checkpoints hold its shard of the state), resuming from what {@code resume} finds,
     * checkpointing when {@code policy} says.
     */
    public static long run(Settings settings, Replica replica, CheckpointPolicy policy, Resume resume,
                           CheckpointListener listener, StepObserver observer, BooleanSupplier stop)
            throws IOException, InterruptedException {
        long stateBytes = MinerLoop.checkpointBytes(settings.options().model(), replica);
        try (Checkpointer checkpointer = Checkpointer.open(settings.checkpoint(), policy, stateBytes, PROGRESS_KEY,
                listener)) {
            Optional<MinerLoop> restored = resume.restore();
            try (MinerLoop loop = restored.orElseGet(() -> MinerLoop.create(settings.options(), replica))) {
                if (restored.isEmpty()) {
                    LOG.info("miner starting at global_step 0 ({} parameters)", loop.options().model().parameterCount());
                }
                return train(loop, settings, checkpointer, observer, stop);
            }
        }
    }

    /** The loop of the newest valid checkpoint file of {@code settings} (or a backup), if there is one. */
    private static Optional<MinerLoop> newestCheckpoint(Settings settings) {
        return CheckpointLoader.loadNewestValid(settings.checkpoint().files(), PROGRESS_KEY, stored -> {
            MinerLoop loop = MinerLoop.restore(TensorTrees.materialize(stored));
            LOG.info("miner resumed from {} at global_step {} ({} parameters, the checkpoint's configuration)",
                    stored.file(), loop.globalStep(), loop.options().model().parameterCount());
            return loop;
        });
    }

    private static long train(MinerLoop loop, Settings settings, Checkpointer checkpointer, StepObserver observer,
                              BooleanSupplier stop) throws IOException, InterruptedException {
        Throughput throughput = new Throughput(loop.tokensPerStep());
        StateSource state = TensorTreeSource.of(loop::state);
        loop.beforeUpdate(checkpointer::awaitStaging);
        while (!stop.getAsBoolean() && (settings.maxSteps() == 0 || loop.globalStep() < settings.maxSteps())) {
            float loss = loop.step();
            checkpointer.afterStep(loop.globalStep(), state);
            observer.stepDone(loop, loss, throughput.tick(), checkpointer);
        }
        long step = loop.globalStep();
        LOG.info("miner stopping at global_step {}: final checkpoint", step);
        checkpointer.checkpointAndWait(step, state, FINAL_PERSIST_WAIT);
        LOG.info("miner stopped at global_step {}; checkpoint {} is on disk", step, checkpointer.path());
        return step;
    }

    /** Tokens per second over the last few seconds. */
    private static final class Throughput {
        private final long tokensPerStep;
        private long windowStart = System.nanoTime();
        private long steps;
        private double rate;

        Throughput(long tokensPerStep) {
            this.tokensPerStep = tokensPerStep;
        }

        double tick() {
            steps++;
            long now = System.nanoTime();
            if (now - windowStart >= 2_000_000_000L) {
                rate = steps * tokensPerStep / ((now - windowStart) / 1e9);
                windowStart = now;
                steps = 0;
            }
            return rate;
        }
    }
}
