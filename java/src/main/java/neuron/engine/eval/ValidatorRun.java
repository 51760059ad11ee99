package neuron.engine.eval;

import neuron.engine.api.JournaledBlock;
import neuron.engine.api.NeuronBlocks;
import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.api.Restored;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
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
 * A validator from start to stop, on the public embedding API ({@link NeuronCheckpoints}, {@link NeuronBlocks}):
 * load the newest valid checkpoint, replay every journaled block after its block
 * (evaluating the same submissions in the same order), then follow the chain live, journaling each block before
 * acting on it; checkpoint at every multiple of {@code checkpointInterval} blocks (or the first block past one),
 * and on a graceful stop take a final checkpoint and wait until it is on disk.
 */
public final class ValidatorRun {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatorRun.class);
    public static final String PROGRESS_KEY = "block";
    private static final Duration POLL = Duration.ofMillis(200);

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
        void blockDone(Validator validator, int scored, NeuronCheckpoints checkpoints);
    }

    private final SubmissionStore store;
    private final NeuronCheckpoints checkpoints;
    private final NeuronBlocks blocks;
    private final AtomicBoolean pruneDue;

    private ValidatorRun(Settings settings, NeuronCheckpoints checkpoints, NeuronBlocks blocks,
                         AtomicBoolean pruneDue) {
        this.store = new SubmissionStore(settings.submissions(), archiveDir(settings.journalDir()));
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
                .expectedStateBytes(Validator.checkpointBytes(settings.config()))
                .listener(listener).listener(pruning).open()) {
            Optional<Restored<Validator>> restored = checkpoints.restore(
                    stored -> Validator.restore(TensorTrees.stored(stored), settings.device()));
            restored.ifPresent(r -> LOG.info("validator resumed from {} at block {}, global_step {}; scores and "
                    + "weights restored: {} miners scored", r.file(), r.state().block(), r.state().globalStep(),
                    r.state().scores().size()));
            Validator validator = restored.map(Restored::state)
                    .orElseGet(() -> Validator.create(settings.config(), settings.device()));
            try {
                if (restored.isEmpty()) {
                    LOG.info("validator starting fresh");
                }
                try (NeuronBlocks blocks = NeuronBlocks.journal(settings.journalDir()).chain(settings.chain())
                        .blockTimeMs(settings.blockTimeMs()).until(settings.untilBlock()).keepFrom(checkpoints)
                        .open(validator.block())) {
                    return new ValidatorRun(settings, checkpoints, blocks, pruneDue).follow(validator, observer, stop);
                }
            } finally {
                try {
                    checkpoints.close();   // after a failure: the last whole block's state, while the model lives
                } finally {
                    validator.close();
                }
            }
        }
    }

    private long follow(Validator validator, BlockObserver observer, BooleanSupplier stop)
            throws IOException, InterruptedException {
        StateSource state = TensorTreeSource.of(validator::state);
        validator.beforeUpdate(checkpoints::awaitStaging);
        Validator.JournaledWindows windows = new Validator.JournaledWindows(false);
        while (!stop.getAsBoolean() && !blocks.finished()) {
            JournaledBlock block = blocks.next(POLL);
            if (block == null) {
                continue;
            }
            if (block.replayed()) {
                windows.add(block.evaluations(), block.windowsEvaluated());
            }
            int scored = validator.onBlock(block.event(), store, blocks.journal(), block.replayed() ? windows : null);
            checkpoints.afterStep(validator.block(), state);
            if (!block.replayed() && pruneDue.getAndSet(false)) {
                checkpoints.oldestKept().ifPresent(store::pruneArchive);
            }
            observer.blockDone(validator, scored, checkpoints);
        }
        long block = validator.block();
        if (block >= 0) {
            LOG.info("validator stopping at block {}: final checkpoint", block);
        }
        checkpoints.close();
        LOG.info("validator stopped at block {} (global_step {}); checkpoint {} is on disk", block,
                validator.globalStep(), checkpoints.path());
        return block;
    }
}
