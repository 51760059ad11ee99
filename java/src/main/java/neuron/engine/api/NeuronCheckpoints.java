package neuron.engine.api;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointFallback;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.checkpoint.Failures;
import neuron.engine.checkpoint.StateSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Asynchronous checkpoints for an application's own training or evaluation loop: open, {@link #restore}, then
 * {@link #awaitStaging()} before and {@link #afterStep} after each update of the state, and {@link #close()},
 * which takes the final checkpoint and waits until it is on disk.
 *
 * <pre>{@code
 * try (NeuronCheckpoints checkpoints = NeuronCheckpoints.forMiner(Path.of("miner_checkpoint.pth")).interval(100).open()) {
 *     Trainer trainer = checkpoints.restore(stored -> Trainer.restore(TensorTrees.stored(stored)))
 *             .map(Restored::state).orElseGet(Trainer::fresh);
 *     StateSource state = TensorTreeSource.of(trainer::state);
 *     while (trainer.step() < maxSteps) {
 *         trainer.forwardBackward();
 *         checkpoints.awaitStaging();                   // the one place the loop may wait
 *         trainer.update();
 *         checkpoints.afterStep(trainer.step(), state); // a snapshot when the interval says so
 *     }
 * }                                                     // the final checkpoint is on disk
 * }</pre>
 *
 * <p><b>Files.</b> The checkpoint file is a real {@code torch.save} archive; the previous ones are kept as
 * {@code FILE.1 .. FILE.N} ({@link Builder#keepBackups}); a file that does not load is moved aside as
 * {@code FILE.corrupt} and the next backup is tried. A snapshot that was staged but not persisted when the
 * process died is persisted by the next {@link Builder#open()}, before {@link #restore} looks.
 *
 * <p><b>Consistency.</b> A snapshot is the state exactly as it was when {@link #afterStep} returned: scalars of
 * the tree are captured then, and tensor bytes are read before {@link #awaitStaging()} returns. The loop must
 * not change any storage the state source lists between {@code afterStep} and the next {@code awaitStaging()}
 * (forward and backward passes only write gradients and activations, which are not state).
 *
 * <p><b>Threads.</b> Every method is called on the loop's thread. The engine's own threads copy storages
 * ({@link StateSource#copy}, {@link StateSource#release}) and write files; {@link CheckpointListener} methods
 * other than {@code snapshotTaken} and {@code snapshotSkipped} run on them.
 */
public final class NeuronCheckpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NeuronCheckpoints.class);
    /** The default {@link Builder#interval}: as the command line's {@code --checkpoint_interval}. */
    private static final long DEFAULT_INTERVAL = 500;
    private static final Duration FINAL_PERSIST_WAIT = Duration.ofMinutes(30);
    private static final String MINER_KEY = "global_step";
    private static final String VALIDATOR_KEY = "block";

    private final Checkpointer checkpointer;
    private final CheckpointConfig config;
    private final String progressKey;
    private final AtomicBoolean persistedSinceAsked;
    private boolean updating;
    private long lastStep = -1;
    private StateSource lastSource;
    private boolean closed;

    private NeuronCheckpoints(Checkpointer checkpointer, CheckpointConfig config, String progressKey,
                              AtomicBoolean persistedSinceAsked) {
        this.checkpointer = checkpointer;
        this.config = config;
        this.progressKey = progressKey;
        this.persistedSinceAsked = persistedSinceAsked;
    }

    /**
     * Checkpoints of a training loop, ordered by the tree's {@code global_step} (an integer the state must hold);
     * {@link #afterStep} takes optimizer steps.
     */
    public static Builder forMiner(Path checkpointFile) {
        return new Builder(checkpointFile, MINER_KEY);
    }

    /**
     * Checkpoints of a validator, ordered by the tree's {@code block} (an integer the state must hold);
     * {@link #afterStep} takes block numbers, and a trigger fires at the first block at or past each multiple of
     * the interval, so a feed that jumps over one still checkpoints.
     */
    public static Builder forValidator(Path checkpointFile) {
        return new Builder(checkpointFile, VALIDATOR_KEY);
    }

    /** The options of {@link NeuronCheckpoints}, with the command line's defaults. */
    public static final class Builder {
        private final Path path;
        private final String progressKey;
        private long interval = DEFAULT_INTERVAL;
        private int keepBackups = CheckpointConfig.DEFAULT_KEEP_BACKUPS;
        private Path stagingDir;
        private long stateBytes;
        private CheckpointListener listener = CheckpointListener.NONE;
        private CheckpointFallback fallback = CheckpointFallback.NONE;

        private Builder(Path path, String progressKey) {
            this.path = Objects.requireNonNull(path, "checkpoint file");
            this.progressKey = progressKey;
        }

        /** Steps (or blocks) between checkpoints ({@code --checkpoint_interval}); 1 checkpoints after every one. */
        public Builder interval(long steps) {
            this.interval = CheckpointPolicy.checkInterval(steps);
            return this;
        }

        /** Previous checkpoints kept as {@code FILE.1 .. FILE.n} ({@code --keep_backups}, default 2). */
        public Builder keepBackups(int n) {
            this.keepBackups = CheckpointFiles.checkKeepBackups(n);
            return this;
        }

        /**
         * Where snapshots are staged ({@code --staging_dir}); by default on {@code /dev/shm} when it has room
         * for three snapshots, else beside the checkpoint, in a directory named after the checkpoint's path.
         */
        public Builder stagingDirectory(Path dir) {
            this.stagingDir = dir;
            return this;
        }

        /**
         * About how many bytes of tensors a snapshot holds: the staging directory and its memory are chosen and
         * sized for it (a larger snapshot still works). Default 0: sized by the staging queue's minimum.
         */
        public Builder expectedStateBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("state bytes must be 0 or more, got " + bytes);
            }
            this.stateBytes = bytes;
            return this;
        }

        /**
         * Also tells {@code listener} of every snapshot and persist (status lines, metrics, an upload of each
         * persisted file); may be called more than once.
         */
        public Builder listener(CheckpointListener listener) {
            this.listener = CheckpointListener.both(this.listener, Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Where {@link #restore} looks when no local checkpoint loads, e.g. the versions of a backup store
         * ({@code neuron.engine.backup.Backup#fallback}, which as a {@link #listener} also uploads each persisted
         * checkpoint); each candidate is fetched into the checkpoint's path and checked like a local file.
         */
        public Builder fallback(CheckpointFallback fallback) {
            this.fallback = Objects.requireNonNull(fallback, "fallback");
            return this;
        }

        /**
         * Checks the JVM's flags, the checkpoint's and staging's directories (an
         * {@link neuron.engine.checkpoint.UnusablePathException} naming the path if one cannot be written), opens
         * staging and persists any snapshot a previous process staged but did not persist. Starts the engine's
         * writer thread.
         *
         * @throws IllegalStateException naming the missing JVM flags
         */
        public NeuronCheckpoints open() throws IOException {
            JvmFlags.check();
            CheckpointConfig config = new CheckpointConfig(path, keepBackups, stagingDir, fallback);
            AtomicBoolean persisted = new AtomicBoolean();
            CheckpointListener flag = new CheckpointListener() {
                @Override
                public void persisted(long step, Path file, long bytes, long persistNanos) {
                    persisted.set(true);
                }
            };
            Checkpointer checkpointer = Checkpointer.open(config, new CheckpointPolicy(interval), stateBytes,
                    progressKey, CheckpointListener.both(listener, flag));
            return new NeuronCheckpoints(checkpointer, config, progressKey, persisted);
        }
    }

    /**
     * Restores from the newest valid checkpoint: the checkpoint file, else the newest backup that loads.
     * {@code restorer} gets the open file (its value tree, whose tensor leaves are descriptors, and the bytes of
     * each storage) and builds the application's state from it; a file it throws on counts as damaged and the
     * next one is tried, then the {@link Builder#fallback}'s. Empty when there is no valid checkpoint (the log
     * says which files were found). Call it before the first {@link #afterStep}; calling it again rebuilds the
     * state (the state given to {@code afterStep} before is forgotten: call {@link #awaitStaging()} before
     * freeing it).
     *
     * @throws IOException if the fallback cannot be asked (whether it holds a checkpoint is then unknown)
     */
    public <T> Optional<Restored<T>> restore(CheckpointLoader.Restorer<T> restorer) throws IOException {
        forgetState();
        Origin origin = new Origin();
        Optional<T> state = CheckpointLoader.loadNewestValid(config.files(), progressKey, stored -> {
            T built = restorer.restore(stored);
            origin.file = stored.file();
            origin.progress = stored.progress();
            return built;
        }, config.fallback());
        return state.map(s -> resumed(s, origin.file, origin.progress));
    }

    /**
     * Restores from the newest checkpoint kept whose progress is below {@code progress} and whose state
     * {@code usable} accepts, e.g. a validator's newest checkpoint on a branch the chain replaced, passed over for
     * an older one; the files passed over stay where they are, and a state refused is closed if it is
     * {@link AutoCloseable}. Empty when none is left.
     */
    public <T> Optional<Restored<T>> restoreBefore(long progress, CheckpointLoader.Restorer<T> restorer,
                                                   Predicate<? super T> usable) {
        forgetState();
        for (Path candidate : config.files().candidates()) {
            long at = progressOf(candidate);
            if (at < 0 || at >= progress) {
                continue;
            }
            try {
                T state = CheckpointLoader.load(candidate, progressKey, restorer);
                if (usable.test(state)) {
                    return Optional.of(resumed(state, candidate, at));
                }
                if (state instanceof AutoCloseable closeable) {
                    closeable.close();
                }
            } catch (Exception e) {
                LOG.warn("checkpoint {} passed over: {}", candidate, Failures.oneLine(e));
            }
        }
        return Optional.empty();
    }

    /**
     * Says that the state was restored at {@code progress} by other means than {@link #restore}, e.g. from a
     * data-parallel group's sharded checkpoint (one file per rank, which no single checkpoint file holds): the next
     * trigger is the first multiple past it. Call it before the first {@link #afterStep}.
     */
    public void resumedAt(long progress) {
        forgetState();
        checkpointer.resumedAt(progress);
    }

    /** The next trigger is the first multiple past the resume, also when it came from a backup or a fallback. */
    private <T> Restored<T> resumed(T state, Path file, long progress) {
        checkpointer.resumedAt(progress);
        return new Restored<>(state, file, progress);
    }

    private void forgetState() {
        checkOpen();
        lastSource = null;
        lastStep = -1;
        updating = false;
    }

    /** Where the state a restorer built came from (the loader, not the restorer, decides that it is valid). */
    private static final class Origin {
        Path file;
        long progress;
    }

    /**
     * The loop's hook after each update of its state: when the interval says a checkpoint is due at
     * {@code step} and staging can take it, snapshots {@code source}; the copy runs on the engine's thread until
     * the next {@link #awaitStaging()}. Returns whether a snapshot was taken (a skipped one is logged, and the
     * next trigger tries again). The source given last is the one {@link #close()} checkpoints.
     */
    public boolean afterStep(long step, StateSource source) {
        checkOpen();
        updating = false;
        lastStep = step;
        lastSource = Objects.requireNonNull(source, "source");
        return checkpointer.afterStep(step, source);
    }

    /**
     * Waits until the storages of the snapshot in progress, if any, are copied. Call it right before the loop
     * next changes its state (a miner: before the optimizer update; a validator: before a window changes its
     * model): the only place the loop waits for checkpoints.
     */
    public void awaitStaging() {
        checkOpen();
        checkpointer.awaitStaging();
        updating = true;
    }

    /** The checkpoint file. */
    public Path path() {
        return checkpointer.path();
    }

    /** The progress of the newest checkpoint on disk, -1 if none. */
    public long persistedStep() {
        return checkpointer.persistedStep();
    }

    /** Snapshots staged and not yet on disk (at most two: one being persisted, one waiting). */
    public int backlog() {
        return checkpointer.backlog();
    }

    /**
     * The oldest checkpoint file kept (the checkpoint itself when there are no backups); empty if none. What a
     * replay may start from: records older than its progress can go.
     */
    public Optional<Path> oldestKept() {
        Path oldest = null;
        long oldestProgress = Long.MAX_VALUE;
        for (Path file : config.files().candidates()) {
            long progress = CheckpointLoader.peekProgress(file, progressKey, false);
            if (progress >= 0 && progress < oldestProgress) {
                oldestProgress = progress;
                oldest = file;
            }
        }
        return Optional.ofNullable(oldest);
    }

    /** The progress value of {@code file}, -1 if it has none (housekeeping: CRCs are not checked). */
    long progressOf(Path file) {
        return CheckpointLoader.peekProgress(file, progressKey, false);
    }

    /** Whether a checkpoint was persisted since the last call. */
    boolean persistedSinceAsked() {
        return persistedSinceAsked.getAndSet(false);
    }

    /**
     * Takes the final checkpoint of the state last given to {@link #afterStep} and waits until it is on disk,
     * then stops the engine's threads. The state must stay alive until this returns. If the loop stopped between
     * {@link #awaitStaging()} and {@link #afterStep} (an exception in the middle of an update), the state may be
     * half-updated: no final checkpoint is taken, and the newest one on disk stays the newest. Idempotent.
     *
     * @throws IOException if the final checkpoint could not be persisted (the previous one is intact)
     */
    @Override
    public void close() throws IOException, InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            checkpointer.awaitStaging();
            if (updating) {
                LOG.warn("no final checkpoint: the loop stopped in the middle of an update; the newest checkpoint "
                        + "on disk is at {} {}", progressKey, checkpointer.persistedStep());
            } else if (lastSource != null) {
                LOG.info("final checkpoint: {} {}", progressKey, lastStep);
                checkpointer.checkpointAndWait(lastStep, lastSource, FINAL_PERSIST_WAIT);
            }
        } finally {
            checkpointer.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the checkpoints of " + checkpointer.path() + " are closed");
        }
    }
}
