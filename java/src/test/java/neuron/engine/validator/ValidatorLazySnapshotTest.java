package neuron.engine.validator;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.miner.TrainTrees;
import neuron.engine.model.BuiltinCorpus;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.testing.GatedSource;
import neuron.engine.torch.TensorTreeSource;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
        ValidatorConfig config = ValidatorConfig.of(Updates.TINY, 0, BuiltinCorpus.SOURCE, 5, 1);
        SubmissionStore store = SubmissionStore.archiving(dir.resolve("store"), dir.resolve("archive"));
        // windows 0 and 1 share the first base: an honest and a noisy update each, so the model and scores move
        Map<String, Tensor> b0 = Updates.firstBase();
        Hash32 base0 = ModelHash.of(b0);
        List<List<Commitment>> included = new ArrayList<>();
        for (int b = 0; b < BLOCKS; b++) {
            included.add(new ArrayList<>());
        }
        for (long w = 0; w < 2; w++) {
            included.get((int) (w * config.blocksPerWindow() + 1)).addAll(List.of(
                    Updates.update(1, w, store.put(Submission.tree(1, w, base0, Updates.trained(b0, 1, w, 5)))),
                    Updates.update(2, w, store.put(Submission.tree(2, w, base0, Updates.noise(b0, w))))));
        }
        Path ckpt = dir.resolve("validator.pth");
        Map<Long, Object> atTrigger = new HashMap<>();
        AtomicInteger overlapped = new AtomicInteger();
        try (Validator validator = Validator.create(config, "cpu");
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
            for (int b = 0; b < BLOCKS; b++) {
                validator.onBlock(Updates.block(b, included.get(b)), store, evaluated -> { });
                if (checkpointer.afterStep(b, source)) {
                    atTrigger.put((long) b, TrainTrees.deepCopy(validator.state()));
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
