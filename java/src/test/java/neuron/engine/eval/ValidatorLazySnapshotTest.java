package neuron.engine.eval;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockJournal;
import neuron.engine.chain.Hash32;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.GatedSource;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.train.BuiltinCorpus;
import neuron.engine.train.ModelConfig;
import neuron.engine.train.TrainTrees;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator's lazy snapshot (copied while the next blocks are processed; a window's evaluation, which changes
 * the model, waits for the copy) is bit for bit its state at the snapshot's block: model, scores, weights.
 */
class ValidatorLazySnapshotTest {
    private static final int BLOCKS = 16;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @Test
    void aLazySnapshotIsTheStateAtItsBlockWhileTheValidatorRunsOn() throws Exception {
        ModelConfig model = ModelConfig.preset("tiny");
        ValidatorConfig config = new ValidatorConfig(model, 0, BuiltinCorpus.SOURCE,
                ValidatorConfig.DEFAULT_BLOCKS_PER_WINDOW, 0, ValidatorConfig.DEFAULT_ALPHA,
                ValidatorConfig.DEFAULT_MAX_UIDS, 4, 1);
        SubmissionStore store = new SubmissionStore(Submissions.storeDir(dir), dir.resolve("archive"));
        Submissions.fill(store, model, BLOCKS / config.blocksPerWindow() + 1);
        Path ckpt = dir.resolve("validator.pth");
        Map<Long, Object> atTrigger = new HashMap<>();
        AtomicInteger overlapped = new AtomicInteger();
        try (Validator validator = Validator.create(config, "cpu");
             BlockJournal journal = BlockJournal.open(dir.resolve("journal"));
             Checkpointer checkpointer = Checkpointer.open(new CheckpointConfig(ckpt, BLOCKS, dir.resolve("staging")),
                     new CheckpointPolicy(config.blocksPerWindow()), Validator.checkpointBytes(config), "block",
                     CheckpointListener.NONE)) {
            GatedSource source = new GatedSource(TensorTreeSource.of(validator::state));
            validator.beforeUpdate(() -> {
                if (source.copying()) {
                    overlapped.incrementAndGet();   // the next blocks were processed before the copy
                }
                source.proceed();
                checkpointer.awaitStaging();
            });
            Hash32 parent = Hash32.ZERO;
            for (long b = 0; b < BLOCKS; b++) {
                Hash32 hash = Hash32.sha256(Long.toString(b).getBytes());
                validator.onBlock(new BlockEvent(new Block(b, hash, parent), false), store, journal, null);
                parent = hash;
                if (checkpointer.afterStep(b, source)) {
                    atTrigger.put(b, TrainTrees.deepCopy(validator.state()));
                }
            }
            source.proceed();
            checkpointer.checkpointAndWait(BLOCKS - 1, source, Duration.ofMinutes(2));
        }
        assertTrue(overlapped.get() >= 2, "windows came due during the copies: " + overlapped);
        int compared = TrainTrees.assertFilesMatch(ckpt, BLOCKS, "block", atTrigger);
        assertTrue(compared >= 3, "several lazy snapshots were persisted and compared: " + compared);
    }
}
