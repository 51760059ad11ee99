package neuron.engine.eval;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.BlockFeeds;
import neuron.engine.chain.BlockJournal;
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
                           long untilBlock, String chain, long blockTimeMs, Path journalDir, Path submissions) {
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
                Validator.checkpointBytes(settings.config()), PROGRESS_KEY, CheckpointListener.both(listener, pruning));
             BlockJournal journal = BlockJournal.open(settings.journalDir())) {
            Optional<Validator> restored = CheckpointLoader.loadNewestValid(settings.checkpoint().files(),
                    PROGRESS_KEY, stored -> {
                        Validator v = Validator.restore(TensorTrees.materialize(stored), settings.device());
                        LOG.info("validator resumed from {} at block {}, global_step {}; scores and weights "
                                + "restored: {} miners scored", stored.file(), v.block(), v.globalStep(),
                                v.scores().size());
                        return v;
                    });
            try (Validator validator = restored.orElseGet(
                    () -> Validator.create(settings.config(), settings.device()))) {
                if (restored.isEmpty()) {
                    LOG.info("validator starting fresh");
                }
                return new ValidatorRun(settings, checkpointer, journal, pruneDue).follow(validator, observer, stop);
            }
        }
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
            try (BlockFeed feed = BlockFeeds.open(settings.chain(), settings.blockTimeMs(), resumePoint(validator))) {
                while (!stop.getAsBoolean() && !reachedEnd(validator)) {
                    BlockEvent event = feed.next(POLL);
                    if (event == null) {
                        continue;
                    }
                    journal.appendBlock(event);
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

    /** Where the feed starts: after the journal's last block, else after the checkpoint's block, else the head. */
    private Block resumePoint(Validator validator) {
        Block last = journal.lastBlock();
        if (last != null) {
            return last;
        }
        return validator.block() < 0 ? null : new Block(validator.block(), Hash32.ZERO, Hash32.ZERO);
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
