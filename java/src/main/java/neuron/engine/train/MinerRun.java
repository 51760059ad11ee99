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
import java.util.Map;
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

    /**
     * State a miner keeps in its checkpoint beside the loop's, under a key of its own (e.g. the network's base
     * model), saved with every snapshot and handed back on restore.
     */
    public interface CheckpointPart {
        String key();

        /** The bytes of its tensors, for sizing staging. */
        long bytes(ModelConfig model);

        /** Its tree; tensor leaves are live until the next step. */
        Object state();

        /** Takes back what {@link #state()} gave, or null when the checkpoint has none (or there is none). */
        void restore(Object saved, MinerLoop loop);
    }

    private MinerRun() {
    }

    /** Runs until {@code stop} says so or {@code maxSteps} is reached; returns the final global step. */
    public static long run(Settings settings, CheckpointListener listener, StepObserver observer,
                           BooleanSupplier stop) throws IOException, InterruptedException {
        return run(settings, listener, observer, stop, null);
    }

    /** What a checkpoint gave back: the loop, and the saved tree of the {@link CheckpointPart} (null if none). */
    private record Resumed(MinerLoop loop, Object part) {
    }

    /** As above, with {@code part} (null for none) in every checkpoint. */
    public static long run(Settings settings, CheckpointListener listener, StepObserver observer,
                           BooleanSupplier stop, CheckpointPart part) throws IOException, InterruptedException {
        CheckpointPolicy policy = new CheckpointPolicy(settings.checkpointInterval());
        long stateBytes = MinerLoop.checkpointBytes(settings.options().model())
                + (part == null ? 0 : part.bytes(settings.options().model()));
        try (Checkpointer checkpointer = Checkpointer.open(settings.checkpoint(), policy, stateBytes, PROGRESS_KEY,
                listener)) {
            Optional<Resumed> restored = CheckpointLoader.loadNewestValid(settings.checkpoint().files(),
                    PROGRESS_KEY, stored -> {
                        Map<?, ?> tree = TensorTrees.materialize(stored);
                        MinerLoop loop = MinerLoop.restore(tree);
                        LOG.info("miner resumed from {} at global_step {} ({} parameters, the checkpoint's "
                                + "configuration)", stored.file(), loop.globalStep(),
                                loop.options().model().parameterCount());
                        return new Resumed(loop, part == null ? null : tree.get(part.key()));
                    });
            try (MinerLoop loop = restored.map(Resumed::loop).orElseGet(() -> MinerLoop.create(settings.options()))) {
                if (restored.isEmpty()) {
                    LOG.info("miner starting at global_step 0 ({} parameters)", loop.options().model().parameterCount());
                }
                if (part != null) {
                    part.restore(restored.map(Resumed::part).orElse(null), loop);
                }
                StateSource state = TensorTreeSource.of(() -> {
                    Map<String, Object> tree = loop.state();
                    if (part != null) {
                        tree.put(part.key(), part.state());
                    }
                    return tree;
                });
                return train(loop, state, settings, checkpointer, observer, stop);
            }
        }
    }

    private static long train(MinerLoop loop, StateSource state, Settings settings, Checkpointer checkpointer,
                              StepObserver observer, BooleanSupplier stop) throws IOException, InterruptedException {
        Throughput throughput = new Throughput(loop.tokensPerStep());
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
