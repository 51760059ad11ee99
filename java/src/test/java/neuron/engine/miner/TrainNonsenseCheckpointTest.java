package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PthFormatException;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A well-formed checkpoint whose values no run can have saved (a negative global_step, one of 2^62, a NaN
 * parameter, an infinite AdamW moment) is damaged: moved aside as {@code .corrupt} with the reason logged, and the
 * newest good backup resumed from.
 */
@Slow
class TrainNonsenseCheckpointTest {
    private static final long GOOD_STEP = 2;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    /** A real miner checkpoint after {@link #GOOD_STEP} steps. */
    private Path goodCheckpoint() throws Exception {
        Path good = dir.resolve("good.pth");
        try (MinerLoop loop = MinerLoop.create(TrainResumeTest.tiny())) {
            for (int i = 0; i < GOOD_STEP; i++) {
                loop.step();
            }
            TensorTrees.save(good, loop.state());
        }
        return good;
    }

    /** {@code good} with {@code change} applied to its tree (tensors are fresh CPU copies), saved as {@code to}. */
    private static void rewrite(Path good, Path to, Consumer<Map<Object, Object>> change) throws Exception {
        Map<Object, Object> tree = new LinkedHashMap<>(TensorTrees.load(good, MinerRun.PROGRESS_KEY));
        change.accept(tree);
        TensorTrees.save(to, tree);
    }

    private static Tensor firstParameter(Map<Object, Object> tree) {
        return (Tensor) ((Map<?, ?>) tree.get("model_state_dict")).values().iterator().next();
    }

    private static Tensor firstMoment(Map<Object, Object> tree, String which) {
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) tree.get("optimizer_state_dict")).get("state");
        return (Tensor) ((Map<?, ?>) state.values().iterator().next()).get(which);
    }

    private static void poison(Tensor t, double value) {
        t.view(-1).narrow(0, t.numel() / 2, 1).fill_(new Scalar(value));
    }

    private static Optional<MinerLoop> restore(CheckpointFiles files) throws IOException {
        return CheckpointLoader.loadNewestValid(files, MinerRun.PROGRESS_KEY,
                stored -> MinerLoop.restore(TensorTrees.stored(stored)));
    }

    @Test
    void nonsenseValuesAreDamageAndTheNewestGoodBackupIsUsed() throws Exception {
        Path good = goodCheckpoint();
        Map<String, Consumer<Map<Object, Object>>> nonsense = new LinkedHashMap<>();
        nonsense.put("'global_step' is -5, which no run reaches", t -> t.put("global_step", -5L));
        nonsense.put("'global_step' is 4611686018427387904, which no run reaches", t -> t.put("global_step", 1L << 62));
        nonsense.put("model.embed_tokens.weight holds NaN", t -> poison(firstParameter(t), Double.NaN));
        nonsense.put("state[0].exp_avg_sq holds an infinity", t -> poison(firstMoment(t, "exp_avg_sq"),
                Double.POSITIVE_INFINITY));
        int n = 0;
        for (Map.Entry<String, Consumer<Map<Object, Object>>> bad : nonsense.entrySet()) {
            Path ckpt = dir.resolve("m" + n++ + ".pth");
            CheckpointFiles files = new CheckpointFiles(ckpt, 2);
            Files.copy(good, files.backup(1), StandardCopyOption.REPLACE_EXISTING);
            rewrite(good, ckpt, bad.getValue());

            PthFormatException damaged = assertThrows(PthFormatException.class, () -> CheckpointLoader.load(ckpt,
                    MinerRun.PROGRESS_KEY, stored -> MinerLoop.restore(TensorTrees.stored(stored))), bad.getKey());
            assertTrue(damaged.getMessage().contains(bad.getKey()), damaged.getMessage());
            assertTrue(damaged.getMessage().contains("the file is damaged"), damaged.getMessage());
            assertEquals(bad.getKey().startsWith("'global_step'") ? -1 : GOOD_STEP,
                    CheckpointLoader.peekProgress(ckpt, MinerRun.PROGRESS_KEY), "a nonsense step orders nothing");

            try (MinerLoop resumed = restore(files).orElseThrow()) {
                assertEquals(GOOD_STEP, resumed.globalStep(), bad.getKey() + ": resumed from the good backup");
            }
            assertFalse(Files.exists(ckpt), bad.getKey());
            assertTrue(Files.exists(ckpt.resolveSibling(ckpt.getFileName() + ".corrupt")),
                    bad.getKey() + ": kept as evidence");
        }
    }

    @Test
    void aMinerResumesFromTheGoodBackupAndSaysWhyLoudly() throws Exception {
        Path good = goodCheckpoint();
        Path ckpt = dir.resolve("miner.pth");
        Files.copy(good, ckpt.resolveSibling("miner.pth.1"));
        rewrite(good, ckpt, t -> t.put("global_step", -5L));
        NeuronProcess miner = NeuronProcess.start(dir, dir.resolve("miner.log"), "miner", "--model", "tiny",
                "--checkpoint_path", ckpt.toString(), "--staging_dir", dir.resolve("staging").toString(),
                "--max_steps", Long.toString(GOOD_STEP + 1));
        assertEquals(0, miner.await(300), miner.log());
        String log = miner.log();
        assertTrue(log.contains("CHECKPOINT " + ckpt + " CANNOT BE LOADED (" + ckpt + ": 'global_step' is -5, "
                + "which no run reaches (0 to 2^40): the file is damaged); moved aside to " + ckpt + ".corrupt"), log);
        assertTrue(log.contains("resumed from checkpoint " + ckpt + ".1: global_step " + GOOD_STEP), log);
        assertTrue(log.contains("miner stopped at global_step " + (GOOD_STEP + 1)), log);
    }
}
