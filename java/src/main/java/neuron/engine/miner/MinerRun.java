package neuron.engine.miner;

import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.DivergedException;
import neuron.engine.checkpoint.NonFiniteStateException;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.model.ModelConfig;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A miner from start to stop, on the public embedding API ({@link NeuronCheckpoints}): resume from the newest
 * valid checkpoint (no flag needed), train, take a snapshot every {@code checkpointInterval} steps (copied while
 * the next step's forward and backward run; the optimizer update waits for the copy), and on a graceful stop (a
 * signal, or {@code maxSteps}) take a final checkpoint and wait until it is on disk.
 */
public final class MinerRun {
    private static final Logger LOG = LoggerFactory.getLogger(MinerRun.class);
    public static final String PROGRESS_KEY = "global_step";

    /**
     * @param maxSteps stop once {@code global_step} reaches it; 0 runs until stopped
     * @param flags    which flags the command line gave: how a resume weighs them against the checkpoint
     */
    public record Settings(MinerOptions options, CheckpointConfig checkpoint, long checkpointInterval,
                           long maxSteps, MinerFlags flags) {
        public Settings {
            CheckpointPolicy.checkInterval(checkpointInterval);
            if (maxSteps < 0) {
                throw new IllegalArgumentException("--max_steps must be 0 (run until stopped) or more, got " + maxSteps);
            }
        }

        public Settings(MinerOptions options, CheckpointConfig checkpoint, long checkpointInterval, long maxSteps) {
            this(options, checkpoint, checkpointInterval, maxSteps, MinerFlags.none());
        }
    }

    /** Sees every step, between steps on the loop's thread (status line, metrics, publishing updates). */
    @FunctionalInterface
    public interface StepObserver {
        void stepDone(MinerLoop loop, float loss, double tokensPerSecond, NeuronCheckpoints checkpoints);

        /** Once, before the first step and outside the timed steps: where start-up measurements belong. */
        default void started(MinerLoop loop) {
        }
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

        /**
         * Takes back what {@link #state()} gave (tensor leaves are read while the checkpoint is open, so copy
         * them), or null when the checkpoint has none (or there is none).
         */
        void restore(Object saved, MinerLoop loop);
    }

    private MinerRun() {
    }

    /** How a run begins, once its checkpoints are open: resumed if there is a checkpoint, else fresh. */
    public interface Start {
        /** The loop of the newest checkpoint, or empty; {@code checkpoints} learns where it resumed. */
        Optional<MinerLoop> resume(NeuronCheckpoints checkpoints) throws IOException;

        MinerLoop fresh();

        /**
         * Whether a run that stops before its first step still ends with a checkpoint of the state it began with:
         * a resume that changed the checkpoint's layout (another number of ranks) writes the new one.
         */
        default boolean checkpointsStart() {
            return false;
        }
    }

    /** Runs until {@code stop} says so or {@code maxSteps} is reached; returns the final global step. */
    public static long run(Settings settings, CheckpointListener listener, StepObserver observer,
                           BooleanSupplier stop) throws IOException, InterruptedException {
        return run(settings, listener, observer, stop, null);
    }

    /** As above, with {@code part} (null for none) in every checkpoint. */
    public static long run(Settings settings, CheckpointListener listener, StepObserver observer,
                           BooleanSupplier stop, CheckpointPart part) throws IOException, InterruptedException {
        return run(settings, Replica.ALONE, new Start() {
            @Override
            public Optional<MinerLoop> resume(NeuronCheckpoints checkpoints) throws IOException {
                return checkpoints.restore(stored -> {
                    MinerStart.Started started = MinerStart.resume(stored, settings.options(), settings.flags(),
                            settings.maxSteps());
                    restorePart(part, part == null ? null : TensorTrees.stored(stored).get(part.key()), started.loop());
                    return started;
                }).map(restored -> restored.state().loop());
            }

            @Override
            public MinerLoop fresh() {
                MinerLoop loop = MinerStart.begin(settings.options(), settings.flags()).loop();
                restorePart(part, null, loop);
                return loop;
            }
        }, part, listener, observer, stop);
    }

    /**
     * As {@link #run(Settings, CheckpointListener, StepObserver, BooleanSupplier)}, as {@code replica}'s rank of
     * a data-parallel group (its checkpoints hold its shard of the state), beginning as {@code start} says.
     */
    public static long run(Settings settings, Replica replica, Start start, CheckpointListener listener,
                           StepObserver observer, BooleanSupplier stop) throws IOException, InterruptedException {
        return run(settings, replica, start, null, listener, observer, stop);
    }

    private static long run(Settings settings, Replica replica, Start start, CheckpointPart part,
                            CheckpointListener listener, StepObserver observer, BooleanSupplier stop)
            throws IOException, InterruptedException {
        CheckpointConfig files = settings.checkpoint();
        try (NeuronCheckpoints checkpoints = NeuronCheckpoints.forMiner(files.path())
                .interval(settings.checkpointInterval()).keepBackups(files.keepBackups())
                .stagingDirectory(files.stagingDir()).fallback(files.fallback())
                .startFreshIfDiverged(files.freshIfDiverged())
                .expectedStateBytes(MinerLoop.checkpointBytes(settings.options().model(), replica)
                        + (part == null ? 0 : part.bytes(settings.options().model())))
                .listener(listener).open()) {
            MinerLoop loop = start.resume(checkpoints).orElseGet(start::fresh);
            try {
                long step;
                try {
                    step = train(loop, part, settings, checkpoints, start.checkpointsStart(), observer, stop,
                            replica.ranks());
                } catch (Diverged d) {
                    checkpoints.discardState();
                    checkpoints.close();   // snapshots taken before it, all finite, are persisted
                    throw d.stop(checkpoints);
                }
                LOG.info("miner stopping at global_step {}: final checkpoint", step);
                checkpoints.close();
                LOG.info("miner stopped at global_step {}; {}", step, checkpoints.onDisk());
                return step;
            } finally {
                try {
                    checkpoints.close();   // after a failure: the last whole step's state, while the loop's tensors live
                } finally {
                    loop.close();
                }
            }
        }
    }

    /** Hands {@code saved} to {@code part} (if any); the loop is closed if the part refuses it. */
    private static void restorePart(CheckpointPart part, Object saved, MinerLoop loop) {
        if (part == null) {
            return;
        }
        try {
            part.restore(saved, loop);
        } catch (RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    private static long train(MinerLoop loop, CheckpointPart part, Settings settings, NeuronCheckpoints checkpoints,
                              boolean checkpointStart, StepObserver observer, BooleanSupplier stop, int ranks) {
        StateSource state = TensorTreeSource.of(() -> {
            Map<String, Object> tree = loop.state();
            if (part != null) {
                tree.put(part.key(), part.state());
            }
            return tree;
        });
        loop.beforeUpdate(checkpoints::awaitStaging);
        loop.stateCheck(() -> checkpoints.nonFinite() == null);
        if (checkpointStart) {
            checkpoints.afterStep(loop.globalStep(), state);   // not due at the resumed step: the final one, if no other
        }
        observer.started(loop);
        Throughput throughput = new Throughput(loop.tokensPerStep());
        while (!stop.getAsBoolean() && (settings.maxSteps() == 0 || loop.globalStep() < settings.maxSteps())) {
            float loss = loop.step();
            if (!Float.isFinite(loss)) {
                NonFiniteStateException refused = checkpoints.nonFinite();
                throw new Diverged(loop, refused != null ? "the state of global_step " + refused.step()
                        + " copied for a checkpoint: " + refused.getMessage() : "the loss is " + loss + (ranks > 1
                        ? " (some rank's loss, or its state copied for a checkpoint)" : ""));
            }
            checkpoints.afterStep(loop.globalStep(), state);
            observer.stepDone(loop, loss, throughput.tick(), checkpoints);
        }
        return loop.globalStep();
    }

    /** The run diverged at a step: nothing of it may be checkpointed, and the miner stops. */
    private static final class Diverged extends RuntimeException {
        private final long step;
        private final TrainingOptions training;

        Diverged(MinerLoop loop, String what) {
            super(what, null, false, false);
            this.step = loop.globalStep();
            this.training = loop.options().training();
        }

        /** What the miner stops with, once the checkpoints taken before are on disk. */
        DivergedException stop(NeuronCheckpoints checkpoints) {
            return new DivergedException(PROGRESS_KEY, step, getMessage(), checkpoints.persistedStep(),
                    checkpoints.path(), String.format(Locale.ROOT, "start again with a lower --lr (now %s) or "
                            + "--grad_clip (now %s) and --override lr,grad_clip (a resume keeps the checkpoint's "
                            + "values otherwise)", training.lr(), training.gradClip()));
        }
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
