package neuron.engine.eval;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeeds;
import neuron.engine.chain.BlockJournal;
import neuron.engine.chain.Commitment;
import neuron.engine.chain.Evaluation;
import neuron.engine.chain.JournalCursor;
import neuron.engine.chain.WindowEvaluated;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.CheckpointMismatchException;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A validator from start to stop: load the newest valid checkpoint, replay every journaled block after its block
 * (the same blocks with the same commitments, so the same evaluations), then follow the chain, journaling each
 * block before acting on it; checkpoint at every multiple of {@code checkpointInterval} blocks (or the first block
 * past one), and on a graceful stop take a final checkpoint and wait until it is on disk. A validator with no
 * checkpoint and no journal starts at the chain's first block and catches up through its history by number.
 */
public final class ValidatorRun {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatorRun.class);
    public static final String PROGRESS_KEY = "block";
    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration FINAL_PERSIST_WAIT = Duration.ofMinutes(30);

    /**
     * @param untilBlock      stop gracefully after this block; 0 runs until stopped
     * @param uid             the validator's own uid: its aggregates and weights are committed under it
     * @param weightsInterval set the weights on the chain every this many windows
     */
    public record Settings(ValidatorConfig config, String device, CheckpointConfig checkpoint, long checkpointInterval,
                           long untilBlock, String chain, long blockTimeMs, Path journalDir, Path submissions,
                           int uid, int weightsInterval) {
        public Settings {
            CheckpointPolicy.checkInterval(checkpointInterval);
            if (untilBlock < 0) {
                throw new IllegalArgumentException("--until_block must be 0 (run until stopped) or a block, got "
                        + untilBlock);
            }
            if (blockTimeMs <= 0) {
                throw new IllegalArgumentException("--block_time_ms must be positive, got " + blockTimeMs);
            }
            if (uid < 0 || uid > Commitment.MAX_UID) {
                throw new IllegalArgumentException("--uid must be 0.." + Commitment.MAX_UID + ", got " + uid);
            }
            if (weightsInterval < 1) {
                throw new IllegalArgumentException("--weights_interval must be at least 1, got " + weightsInterval);
            }
        }
    }

    /** Sees every block processed (for the status line and metrics). */
    @FunctionalInterface
    public interface BlockObserver {
        void blockDone(Validator validator, int scored, Checkpointer checkpointer);
    }

    private final Settings settings;
    private final SubmissionStore store;
    private final Checkpointer checkpointer;
    private final BlockJournal journal;
    private final AtomicBoolean pruneDue;
    /** Windows whose evaluation the journal already records (a restart evaluates them again, silently). */
    private final Set<Long> journaledWindows = new HashSet<>();

    private ValidatorRun(Settings settings, Checkpointer checkpointer, BlockJournal journal, AtomicBoolean pruneDue) {
        this.pruneDue = pruneDue;
        this.settings = settings;
        this.store = SubmissionStore.archiving(settings.submissions(), archiveDir(settings.journalDir()));
        this.checkpointer = checkpointer;
        this.journal = journal;
    }

    /** Where the submissions a validator evaluated are archived by content hash: inside its journal directory. */
    static Path archiveDir(Path journalDir) {
        return journalDir.resolve("evaluated");
    }

    /** Runs until {@code stop} says so or {@code untilBlock} is processed; returns the last block processed. */
    public static long run(Settings settings, CheckpointListener listener, BlockObserver observer,
                           BooleanSupplier stop) throws IOException, InterruptedException {
        CheckpointFiles.checkWritableDirectory(settings.journalDir(), "journal directory");
        // Each persisted checkpoint may let older journal cycles and archived submissions go.
        AtomicBoolean pruneDue = new AtomicBoolean();
        CheckpointListener pruning = new CheckpointListener() {
            @Override
            public void persisted(long block, Path path, long bytes, long persistNanos) {
                pruneDue.set(true);
            }
        };
        CheckpointPolicy policy = new CheckpointPolicy(settings.checkpointInterval());
        try (Checkpointer checkpointer = Checkpointer.open(settings.checkpoint(), policy,
                Validator.checkpointBytes(settings.config()), PROGRESS_KEY, CheckpointListener.both(listener, pruning))) {
            Optional<Validator> restored = CheckpointLoader.loadNewestValid(settings.checkpoint().files(),
                    PROGRESS_KEY, stored -> {
                        Validator v = restore(TensorTrees.materialize(stored), stored.file(), settings);
                        LOG.info("validator resumed from {} at block {}, global_step {}; scores and weights "
                                + "restored: {} miners scored", stored.file(), v.block(), v.globalStep(),
                                v.scores().size());
                        return v;
                    });
            try (Validator validator = restored.orElseGet(() -> Validator.create(settings.config(), settings.device()));
                 BlockJournal journal = BlockJournal.open(settings.journalDir())) {
                if (restored.isEmpty()) {
                    LOG.info("validator starting fresh: from the chain's first block, catching up by number");
                }
                return new ValidatorRun(settings, checkpointer, journal, pruneDue).follow(validator, observer, stop);
            }
        }
    }

    /** The validator a checkpoint describes; one that does not fit is refused, and left as it is. */
    private static Validator restore(Map<?, ?> tree, Path file, Settings settings)
            throws CheckpointMismatchException {
        try {
            return Validator.restore(tree, settings.config(), settings.device());
        } catch (IllegalArgumentException misfit) {
            throw new CheckpointMismatchException(file, "a validator checkpoint that does not fit: "
                    + misfit.getMessage() + " (start with the flags it was written with, or move it away to start "
                    + "afresh)");
        }
    }

    private long follow(Validator validator, BlockObserver observer, BooleanSupplier stop)
            throws IOException, InterruptedException {
        StateSource state = TensorTreeSource.of(validator::state);
        validator.beforeUpdate(checkpointer::awaitStaging);
        boolean positionKnown = validator.positionUnknown().isEmpty();
        Block resumeAfter = positionKnown ? resumePoint(validator) : null;
        long firstBlock = positionKnown && resumeAfter == null ? 0 : -1;
        try (BlockFeeds.Connection chain = BlockFeeds.connect(settings.chain(), settings.blockTimeMs(), resumeAfter,
                firstBlock)) {
            ValidatorDuties duties = new ValidatorDuties(chain.window(), store, settings.uid(),
                    settings.weightsInterval(), validator.config().blocksPerWindow());
            if (positionKnown) {
                replayJournal(validator, state, duties, observer, stop);
            }
            while (!stop.getAsBoolean() && !reachedEnd(validator)) {
                BlockEvent event = chain.feed().next(POLL);
                if (event == null) {
                    continue;
                }
                journal.appendBlock(event);
                duties.onBlock(event.block());
                boolean caughtUp = event.number() + validator.config().blocksPerWindow() >= chain.window().head();
                int scored = validator.onBlock(event, store, e -> {
                    record(e);
                    duties.windowEvaluated(e, validator, caughtUp);
                });
                duties.afterBlock(event.number());
                checkpointer.afterStep(validator.block(), state);
                pruneIfDue();
                observer.blockDone(validator, scored, checkpointer);
            }
        }
        long block = validator.block();
        if (block >= 0) {
            LOG.info("validator stopping at block {}: final checkpoint", block);
            checkpointer.checkpointAndWait(block, state, FINAL_PERSIST_WAIT);
        }
        LOG.info("validator stopped at block {} (global_step {}); checkpoint {} is on disk", block,
                validator.globalStep(), checkpointer.path());
        return block;
    }

    /** Replays the journaled blocks after the checkpoint's block: the same inputs, so the same state. */
    private void replayJournal(Validator validator, StateSource state, ValidatorDuties duties, BlockObserver observer,
                               BooleanSupplier stop) {
        long replayed = 0;
        try (JournalCursor cursor = journal.replay(validator.block(), untilOrMax())) {
            while (cursor.next() && !stop.getAsBoolean()) {
                cursor.windowsEvaluated().forEach(w -> journaledWindows.add(w.window()));
                duties.onBlock(cursor.block().block());
                int scored = validator.onBlock(cursor.block(), store, e -> {
                    record(e);
                    duties.windowEvaluated(e, validator, false);
                });
                checkpointer.afterStep(validator.block(), state);
                observer.blockDone(validator, scored, checkpointer);
                replayed++;
            }
        }
        if (replayed > 0) {
            LOG.info("replayed {} journaled blocks, up to block {}", replayed, validator.block());
        } else {
            LOG.info("no journaled block after block {} to replay", validator.block());
        }
    }

    /** Journals what a window's evaluation gave, unless the journal has it from before a restart. */
    private void record(Validator.Evaluated e) {
        if (journaledWindows.remove(e.window())) {
            return;
        }
        for (WindowEvaluator.Outcome o : e.outcomes()) {
            journal.appendEvaluation(new Evaluation(e.window(), o.uid(), o.hash(), o.accepted(), o.score()));
        }
        journal.appendWindowEvaluated(new WindowEvaluated(e.window(), e.outcomes().size()));
    }

    private long untilOrMax() {
        return settings.untilBlock() > 0 ? settings.untilBlock() : Long.MAX_VALUE;
    }

    private boolean reachedEnd(Validator validator) {
        return settings.untilBlock() > 0 && validator.block() >= settings.untilBlock();
    }

    /** Where the feed resumes: after the journal's last block, else after the checkpoint's block; null for neither. */
    private Block resumePoint(Validator validator) {
        Block last = journal.lastBlock();
        if (last != null) {
            return last;
        }
        return validator.block() < 0 ? null : new Block(validator.block(), validator.blockHash(), validator.blockHash());
    }

    /** Drops journal cycles that only hold blocks older than the oldest checkpoint kept. */
    private void pruneIfDue() {
        if (!pruneDue.getAndSet(false)) {
            return;
        }
        long oldest = Long.MAX_VALUE;
        Path oldestFile = null;
        for (Path file : settings.checkpoint().files().candidates()) {
            long block = CheckpointLoader.peekProgress(file, PROGRESS_KEY, false);
            if (block >= 0 && block < oldest) {
                oldest = block;
                oldestFile = file;
            }
        }
        if (oldestFile != null) {
            int removed = journal.removeCyclesBefore(oldest);
            if (removed > 0) {
                LOG.info("journal: removed {} cycle files older than block {} (the oldest checkpoint kept)", removed,
                        oldest);
            }
            store.pruneArchive(oldestFile);
        }
    }
}
