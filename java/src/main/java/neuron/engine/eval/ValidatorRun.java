package neuron.engine.eval;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.BlockFeeds;
import neuron.engine.chain.BlockJournal;
import neuron.engine.chain.ChainFollower;
import neuron.engine.chain.Follow;
import neuron.engine.chain.Hash32;
import neuron.engine.chain.JournalCursor;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointLoader;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A validator from start to stop: load the newest valid checkpoint, replay every journaled block after its block
 * (evaluating the same submissions in the same order), then follow the chain live, journaling each block before
 * acting on it; checkpoint at every multiple of {@code checkpointInterval} blocks (or the first block past one),
 * and on a graceful stop take a final checkpoint and wait until it is on disk.
 */
public final class ValidatorRun {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatorRun.class);
    public static final String PROGRESS_KEY = "block";
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration FINAL_PERSIST_WAIT = Duration.ofMinutes(30);

    /**
     * @param untilBlock stop gracefully after this block; 0 runs until stopped
     */
    public record Settings(ValidatorConfig config, String device, CheckpointConfig checkpoint, long checkpointInterval,
                           long untilBlock, String chain, Follow follow, long blockTimeMs, Path journalDir,
                           Path submissions) {
        public Settings {
            CheckpointPolicy.checkInterval(checkpointInterval);
            if (untilBlock < 0) {
                throw new IllegalArgumentException("--until_block must be 0 (run until stopped) or a block, got "
                        + untilBlock);
            }
            if (blockTimeMs <= 0) {
                throw new IllegalArgumentException("--block_time_ms must be positive, got " + blockTimeMs);
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
    /** Set when the feed rolled back past what the validator acted on: its state must be rebuilt. */
    private boolean rolledBack;

    private ValidatorRun(Settings settings, Checkpointer checkpointer, BlockJournal journal, AtomicBoolean pruneDue) {
        this.pruneDue = pruneDue;
        this.settings = settings;
        this.store = new SubmissionStore(settings.submissions(), archiveDir(settings.journalDir()));
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
            // before the journal opens: a fallback that supplies the checkpoint may supply its journal too
            Optional<Validator> restored = CheckpointLoader.loadNewestValid(settings.checkpoint().files(),
                    PROGRESS_KEY, restorer(settings), settings.checkpoint().fallback());
            try (BlockJournal journal = BlockJournal.open(settings.journalDir())) {
                while (true) { // once more after each rollback: the state is rebuilt from a checkpoint on the chain
                    restored = onChainOrOlder(settings, journal, restored);
                    try (Validator validator = restored.orElseGet(
                            () -> Validator.create(settings.config(), settings.device()))) {
                        if (restored.isEmpty()) {
                            LOG.info("validator starting fresh");
                        } else {
                            checkpointer.resumedAt(validator.block());
                        }
                        ValidatorRun run = new ValidatorRun(settings, checkpointer, journal, pruneDue);
                        long block;
                        try {
                            block = run.follow(validator, observer, stop);
                        } finally {
                            checkpointer.awaitStaging();   // the copier may be reading the model: it must outlive the copy
                        }
                        if (!run.rolledBack) {
                            return block;
                        }
                    }
                    restored = CheckpointLoader.loadNewestValid(settings.checkpoint().files(), PROGRESS_KEY,
                            restorer(settings));
                }
            }
        }
    }

    /** Restores a validator straight into its live tensors, and says what it restored. */
    private static CheckpointLoader.Restorer<Validator> restorer(Settings settings) {
        return stored -> {
            Validator v = Validator.restore(TensorTrees.stored(stored), settings.device());
            LOG.info("validator resumed from {} at block {}, global_step {}; scores and weights restored: {} miners "
                    + "scored", stored.file(), v.block(), v.globalStep(), v.scores().size());
            return v;
        };
    }

    /**
     * {@code newest} if its block is on the journal's canonical chain; else (a checkpoint taken at a block a
     * reorganisation replaced) the newest older valid checkpoint that is, passing the others over and leaving them
     * in place, else none: the validator starts fresh and replays the journal.
     */
    private static Optional<Validator> onChainOrOlder(Settings settings, BlockJournal journal,
                                                      Optional<Validator> newest) {
        if (newest.isEmpty() || onChain(journal, newest.get())) {
            return newest;
        }
        long replaced = newest.get().block();
        newest.get().close();
        for (Path candidate : settings.checkpoint().files().candidates()) {
            long block = CheckpointLoader.peekProgress(candidate, PROGRESS_KEY, false);
            if (block < 0 || block >= replaced) {
                continue;
            }
            try {
                Validator v = CheckpointLoader.load(candidate, PROGRESS_KEY, restorer(settings));
                if (onChain(journal, v)) {
                    return Optional.of(v);
                }
                v.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("checkpoint {} passed over: {}", candidate, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Whether the validator's block is the journal's canonical block at its number (or the journal cannot tell). */
    private static boolean onChain(BlockJournal journal, Validator validator) {
        Block tip = journal.lastBlock();
        Block canonical = journal.canonicalBlock(validator.block());
        boolean onChain = tip == null || (validator.block() <= tip.number()
                && (canonical == null || canonical.hash().equals(validator.blockHash())));
        if (!onChain) {
            LOG.warn("the checkpoint at block {} ({}) is on a branch the chain replaced: passing it over",
                    validator.block(), validator.blockHash());
        }
        return onChain;
    }

    private long follow(Validator validator, BlockObserver observer, BooleanSupplier stop)
            throws IOException, InterruptedException {
        StateSource state = TensorTreeSource.of(validator::state);
        validator.beforeUpdate(checkpointer::awaitStaging);
        long replayed = 0;
        Validator.JournaledWindows windows = new Validator.JournaledWindows(false);
        try (JournalCursor cursor = journal.replay(validator.block(), untilOrMax())) {
            while (cursor.next() && !stop.getAsBoolean()) {
                windows.add(cursor.evaluations(), cursor.windowsEvaluated());
                int scored = validator.onBlock(cursor.block(), store, journal, windows);
                checkpointer.afterStep(validator.block(), state);
                observer.blockDone(validator, scored, checkpointer);
                replayed++;
            }
        }
        if (replayed > 0) {
            LOG.info("replayed {} journaled blocks, up to block {}", replayed, validator.block());
        }
        if (!reachedEnd(validator)) {
            try (BlockFeed feed = BlockFeeds.open(settings.chain(), settings.blockTimeMs(), settings.follow(),
                    resumePoint(validator))) {
                while (!stop.getAsBoolean() && !reachedEnd(validator)) {
                    BlockEvent event = feed.next(POLL);
                    if (event == null) {
                        continue;
                    }
                    journal.appendBlock(event);
                    if (event.number() <= validator.block()) { // blocks acted on were replaced: the journal retracts them
                        LOG.warn("rolling back to block {}: rebuilding the state from a checkpoint and the journal",
                                event.number() - 1);
                        rolledBack = true;
                        return validator.block();
                    }
                    int scored = validator.onBlock(event, store, journal, null);
                    checkpointer.afterStep(validator.block(), state);
                    pruneIfDue();
                    observer.blockDone(validator, scored, checkpointer);
                }
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

    private long untilOrMax() {
        return settings.untilBlock() > 0 ? settings.untilBlock() : Long.MAX_VALUE;
    }

    private boolean reachedEnd(Validator validator) {
        return settings.untilBlock() > 0 && validator.block() >= settings.untilBlock();
    }

    /**
     * Where the feed starts: after the journal's canonical chain (whose recent blocks it can roll back to), else
     * after the checkpoint's block, else at the head.
     */
    private List<Block> resumePoint(Validator validator) {
        List<Block> recent = journal.recentBlocks(ChainFollower.HISTORY);
        if (!recent.isEmpty()) {
            return recent;
        }
        return validator.block() < 0 ? List.of() : List.of(new Block(validator.block(), Hash32.ZERO, Hash32.ZERO));
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
