package neuron.engine.validator;

import neuron.engine.api.JournaledBlock;
import neuron.engine.api.NeuronBlocks;
import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.api.Restored;
import neuron.engine.chain.Follow;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.CheckpointMismatchException;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.DivergedException;
import neuron.engine.checkpoint.NonFiniteStateException;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.journal.Evaluation;
import neuron.engine.journal.WindowEvaluated;
import neuron.engine.network.Commitment;
import neuron.engine.network.SubmissionStore;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A validator from start to stop, on the public embedding API ({@link NeuronCheckpoints}, {@link NeuronBlocks}):
 * load the newest valid checkpoint whose block the chain still has, replay every journaled block after its block
 * (the same blocks with the same commitments, so the same evaluations), then follow the chain live, journaling each
 * block before acting on it; checkpoint at every multiple of {@code checkpointInterval} blocks (or the first block
 * past one); when the chain replaces blocks already acted on, rebuild the state from a checkpoint and the journal;
 * and on a graceful stop take a final checkpoint and wait until it is on disk. A validator with no checkpoint and
 * no journal starts at the chain's first block and catches up through its history by number. Besides, it does its
 * duties on the chain ({@link ValidatorDuties}: the aggregates it publishes, the weights it sets).
 */
public final class ValidatorRun {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatorRun.class);
    public static final String PROGRESS_KEY = "block";
    private static final Duration POLL = Duration.ofMillis(200);

    /**
     * @param untilBlock      stop gracefully after this block; 0 runs until stopped
     * @param uid             the validator's own uid: its aggregates and weights are committed under it
     * @param weightsInterval set the weights on the chain every this many windows
     * @param firstBlock      the network's first block, where a validator with no checkpoint starts; -1 for the head
     */
    public record Settings(ValidatorConfig config, String device, CheckpointConfig checkpoint, long checkpointInterval,
                           long untilBlock, String chain, Follow follow, long blockTimeMs, Path journalDir,
                           Path submissions, int uid, int weightsInterval, long firstBlock) {
        public Settings {
            CheckpointPolicy.checkInterval(checkpointInterval);
            if (untilBlock < 0) {
                throw new UsageException("--until_block must be 0 (run until stopped) or a block, got "
                        + untilBlock);
            }
            if (blockTimeMs <= 0) {
                throw new UsageException("--block_time_ms must be positive, got " + blockTimeMs);
            }
            Commitment.checkUid("--uid", uid);
            if (weightsInterval < 1) {
                throw new UsageException("--weights_interval must be at least 1, got " + weightsInterval);
            }
            if (firstBlock < -1) {
                throw new UsageException("--first_block must be a block or -1 (the head), got " + firstBlock);
            }
        }
    }

    /** Sees every block processed (for the status line and metrics). */
    @FunctionalInterface
    public interface BlockObserver {
        void blockDone(Validator validator, int scored, NeuronCheckpoints checkpoints);
    }

    private final Settings settings;
    private final SubmissionStore store;
    private final NeuronCheckpoints checkpoints;
    private final NeuronBlocks blocks;
    private final AtomicBoolean pruneDue;
    /** Windows whose evaluation the journal already records (a restart evaluates them again, silently). */
    private final Set<Long> journaledWindows = new HashSet<>();

    private ValidatorRun(Settings settings, NeuronCheckpoints checkpoints, NeuronBlocks blocks,
                         AtomicBoolean pruneDue) {
        this.settings = settings;
        this.store = SubmissionStore.archiving(settings.submissions(), archiveDir(settings.journalDir()));
        this.checkpoints = checkpoints;
        this.blocks = blocks;
        this.pruneDue = pruneDue;
    }

    /** Where the submissions a validator evaluated are archived by content hash: inside its journal directory. */
    static Path archiveDir(Path journalDir) {
        return journalDir.resolve("evaluated");
    }

    /** Runs until {@code stop} says so or {@code untilBlock} is processed; returns the last block processed. */
    public static long run(Settings settings, CheckpointListener listener, BlockObserver observer,
                           BooleanSupplier stop) throws IOException, InterruptedException {
        // Each persisted checkpoint may let archived submissions go (the journal trims itself).
        AtomicBoolean pruneDue = new AtomicBoolean();
        CheckpointListener pruning = new CheckpointListener() {
            @Override
            public void persisted(long block, Path path, long bytes, long persistNanos) {
                pruneDue.set(true);
            }
        };
        CheckpointConfig files = settings.checkpoint();
        try (NeuronCheckpoints checkpoints = NeuronCheckpoints.forValidator(files.path())
                .interval(settings.checkpointInterval()).keepBackups(files.keepBackups())
                .stagingDirectory(files.stagingDir()).fallback(files.fallback())
                .startFreshIfDiverged(files.freshIfDiverged())
                .expectedStateBytes(Validator.checkpointBytes(settings.config()))
                .listener(listener).listener(pruning).open()) {
            // before the journal opens: a fallback that supplies the checkpoint may supply its journal too
            Optional<Restored<Validator>> restored = checkpoints.restore(restorer(settings));
            // a fresh validator catches up from the network's first block; one resumed from a checkpoint that does
            // not say where it was (the reference system's keys) joins at the head
            boolean positionUnknown = restored.isPresent() && !restored.get().state().positionUnknown().isEmpty();
            try (NeuronBlocks blocks = NeuronBlocks.journal(settings.journalDir()).chain(settings.chain())
                    .follow(settings.follow()).blockTimeMs(settings.blockTimeMs()).until(settings.untilBlock())
                    .freshFrom(positionUnknown ? -1 : settings.firstBlock()).keepFrom(checkpoints).open()) {
                ValidatorRun run = new ValidatorRun(settings, checkpoints, blocks, pruneDue);
                while (true) { // once more after each rollback: the state is rebuilt from a checkpoint on the chain
                    Optional<Long> block = run.fromCheckpoint(run.onChainOrOlder(restored), observer, stop);
                    if (block.isPresent()) {
                        return block.get();
                    }
                    restored = checkpoints.restore(restorer(settings));
                }
            }
        }
    }

    /**
     * Restores a validator straight into its live tensors, and says what it restored; a readable checkpoint that
     * does not fit is refused, and left as it is.
     */
    private static CheckpointLoader.Restorer<Validator> restorer(Settings settings) {
        return stored -> {
            Validator v;
            try {
                v = Validator.restore(TensorTrees.stored(stored), settings.config(), settings.device());
            } catch (IllegalArgumentException misfit) {
                throw new CheckpointMismatchException(stored.file(), "a validator checkpoint that does not fit: "
                        + misfit.getMessage() + " (start with the flags it was written with, or move it away to "
                        + "start afresh)");
            }
            LOG.info("validator resumed from {} at block {}, global_step {}; scores and weights restored: {} miners "
                    + "scored", stored.file(), v.block(), v.globalStep(), v.scores().size());
            return v;
        };
    }

    /**
     * Runs the validator {@code restored} describes (a fresh one if none) from its block; returns the last block
     * processed, or empty when the chain rolled back past what it acted on and the state must be rebuilt.
     */
    private Optional<Long> fromCheckpoint(Optional<Restored<Validator>> restored, BlockObserver observer,
                                          BooleanSupplier stop) throws IOException, InterruptedException {
        Validator validator = restored.map(Restored::state)
                .orElseGet(() -> Validator.create(settings.config(), settings.device()));
        boolean rolledBack = false;
        try {
            if (restored.isEmpty()) {
                LOG.info("validator starting fresh: from the chain's first block, catching up by number");
            }
            blocks.replayAfter(validator.block());
            try {
                rolledBack = follow(validator, observer, stop);
            } catch (Diverged d) {
                checkpoints.discardState();
                checkpoints.close();   // snapshots taken before it, all finite, are persisted
                throw new DivergedException("block", validator.block(), d.getMessage(), checkpoints.persistedStep(),
                        checkpoints.path(), "a validator rebuilds the same state from the chain: start again, and "
                        + "if it diverges at the same block, the updates of that window overflow the model");
            }
            if (rolledBack) {
                checkpoints.awaitStaging();   // the copier may be reading the model about to go
                return Optional.empty();
            }
            long block = validator.block();
            if (block >= 0) {
                LOG.info("validator stopping at block {}: final checkpoint", block);
            }
            checkpoints.close();
            if (block < 0 && settings.chain() != null && settings.chain().startsWith("ws")) {
                // stopped before the chain sent a single block: nothing was validated, which is no success
                String line = "validator stopped before " + settings.chain() + " sent any block: nothing was "
                        + "validated; " + checkpoints.onDisk();
                LOG.error(line);   // now: a SIGTERM's exit may come before the command line prints the failure
                throw new IOException(line);
            }
            LOG.info("validator stopped at block {} (global_step {}); {}", block, validator.globalStep(),
                    checkpoints.onDisk());
            return Optional.of(block);
        } finally {
            try {
                if (!rolledBack) {
                    checkpoints.close();   // after a failure: the last whole block's state, while the model lives
                }
            } finally {
                validator.close();
            }
        }
    }

    /**
     * {@code newest} if its block is on the journal's canonical chain; else (a checkpoint taken at a block a
     * reorganisation replaced) the newest older valid checkpoint that is, passing the others over and leaving them
     * in place, else none: the validator starts fresh and replays the journal.
     */
    private Optional<Restored<Validator>> onChainOrOlder(Optional<Restored<Validator>> newest) {
        if (newest.isEmpty() || onChain(newest.get().state())) {
            return newest;
        }
        newest.get().state().close();
        return checkpoints.restoreBefore(newest.get().progress(), restorer(settings), this::onChain);
    }

    private boolean onChain(Validator validator) {
        boolean onChain = blocks.onChain(validator.block(), validator.blockHash());
        if (!onChain) {
            LOG.warn("the checkpoint at block {} ({}) is on a branch the chain replaced: passing it over",
                    validator.block(), validator.blockHash());
        }
        return onChain;
    }

    /** Follows the blocks; returns true when the chain rolled back past what the validator acted on. */
    private boolean follow(Validator validator, BlockObserver observer, BooleanSupplier stop)
            throws InterruptedException {
        StateSource state = TensorTreeSource.of(validator::state);
        validator.beforeUpdate(checkpoints::awaitStaging);
        ValidatorDuties duties = new ValidatorDuties(blocks.window(), store, settings.uid(), settings.weightsInterval(),
                validator.config().blocksPerWindow());
        journaledWindows.clear();
        while (!stop.getAsBoolean() && !blocks.finished()) {
            JournaledBlock block = blocks.next(POLL);
            if (block == null) {
                continue;
            }
            if (block.rollsBack()) { // blocks acted on were replaced: the journal retracts them
                LOG.warn("rolling back to block {}: rebuilding the state from a checkpoint and the journal",
                        block.number() - 1);
                return true;
            }
            block.windowsEvaluated().forEach(w -> journaledWindows.add(w.window()));
            duties.onBlock(block.event().block());
            // weights are set once caught up with the chain: a replay or a catch-up only rebuilds the state
            boolean caughtUp = !block.replayed()
                    && block.number() + validator.config().blocksPerWindow() >= blocks.window().head();
            int scored = validator.onBlock(block.event(), store, e -> {
                record(e);
                duties.windowEvaluated(e, validator, caughtUp);
            });
            if (!block.replayed()) {
                duties.afterBlock(block.number());
            }
            NonFiniteStateException refused = checkpoints.nonFinite();
            if (refused != null) {
                throw new Diverged("the state of block " + refused.step() + " copied for a checkpoint: "
                        + refused.getMessage());
            }
            checkpoints.afterStep(validator.block(), state);
            if (!block.replayed() && pruneDue.getAndSet(false)) {
                checkpoints.oldestKept().ifPresent(store::pruneArchive);
            }
            observer.blockDone(validator, scored, checkpoints);
        }
        return false;
    }

    /** The validator's state held NaN or an infinity: nothing of it may be checkpointed, and the validator stops. */
    private static final class Diverged extends RuntimeException {
        Diverged(String what) {
            super(what, null, false, false);
        }
    }

    /** Journals what a window's evaluation gave, unless the journal has it from before a restart. */
    private void record(Validator.Evaluated e) {
        if (journaledWindows.remove(e.window())) {
            return;
        }
        for (WindowEvaluator.Outcome o : e.outcomes()) {
            blocks.journal().appendEvaluation(new Evaluation(e.window(), o.uid(), o.hash(), o.accepted(), o.score()));
        }
        blocks.journal().appendWindowEvaluated(new WindowEvaluated(e.window(), e.outcomes().size()));
    }
}
