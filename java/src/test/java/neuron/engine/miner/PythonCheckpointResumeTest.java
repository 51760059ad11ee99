package neuron.engine.miner;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.CheckpointMismatchException;
import neuron.engine.model.LlamaLayout;
import neuron.engine.model.ModelConfig;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints that Python wrote the way the Python miner writes them (torch.optim.AdamW, LambdaLR, no engine
 * config or seed), by Debian's torch 1.13 in this test: they resume at their step with their weights and both
 * moments; flags that disagree are listed; a state dict that is no LLaMA, or an optimizer that is not AdamW, is
 * refused naming what does not fit.
 */
@Slow
class PythonCheckpointResumeTest {
    private static final int STEPS = 12;
    @TempDir
    static Path dir;
    private static Map<?, ?> made;

    @BeforeAll
    static void makeCheckpointsInPython() throws Exception {
        PythonTorch.assumeAvailable();
        LibTorch.load();
        Path script = Path.of(PythonCheckpointResumeTest.class.getResource("python_miner.py").toURI());
        String out = PythonTorch.runFile(script, "save", dir.toString(), Integer.toString(STEPS), "miner", "gqa",
                "tied", "bias", "sgd", "rotary", "weights_only");
        String[] lines = out.strip().split("\n");
        made = new ObjectMapper().readValue(lines[lines.length - 1], Map.class);
    }

    private static MinerStart.Started resume(String variant, String... args) throws Exception {
        MinerArguments.Parsed parsed = MinerArguments.command(args);
        return resume(variant, parsed.options(), parsed.flags(), 0);
    }

    private static MinerStart.Started resume(String variant, MinerOptions options, MinerFlags flags, long maxSteps)
            throws Exception {
        return CheckpointLoader.load(dir.resolve(variant + ".pth"), MinerRun.PROGRESS_KEY,
                stored -> MinerStart.resume(stored, options, flags, maxSteps));
    }

    @Test
    void resumesAtItsStepWithItsWeightsAndBothMoments() throws Exception {
        Map<?, ?> python = TensorTrees.load(dir.resolve("miner.pth"), MinerRun.PROGRESS_KEY);
        MinerStart.Started started = resume("miner", "--device", "cpu");
        try (MinerLoop loop = started.loop()) {
            assertEquals(STEPS, loop.globalStep());
            assertEquals(new ModelConfig(256, 64, 2, 4, 128, 64, 10000.0, 1e-6), loop.options().model(),
                    "derived from the tensors; heads from the preset of hidden 64, seq_len from the flags");
            Map<String, Object> state = loop.state();
            Map<?, ?> pythonModel = (Map<?, ?>) python.get("model_state_dict");
            TrainTrees.assertBitIdentical(new ArrayList<>(pythonModel.values()),
                    new ArrayList<>(((Map<?, ?>) state.get("model_state_dict")).values()), "weights");
            assertEquals(List.copyOf(pythonModel.keySet()), List.copyOf(((Map<?, ?>) state.get("model_state_dict")).keySet()));
            Map<?, ?> pythonMoments = (Map<?, ?>) ((Map<?, ?>) python.get("optimizer_state_dict")).get("state");
            Map<?, ?> moments = (Map<?, ?>) ((Map<?, ?>) state.get("optimizer_state_dict")).get("state");
            assertEquals(21, moments.size());
            for (Object index : pythonMoments.keySet()) {
                Map<?, ?> p = (Map<?, ?>) pythonMoments.get(index);
                Map<?, ?> e = (Map<?, ?>) moments.get(index);
                for (String key : List.of("step", "exp_avg", "exp_avg_sq")) {
                    TrainTrees.assertBitIdentical(p.get(key), e.get(key), "state[" + index + "]." + key);
                }
            }
            double pythonLr = ((Number) ((Map<?, ?>) made.get("miner")).get("lr")).doubleValue();
            assertEquals(pythonLr, loop.lr(), "the lr Python's scheduler set for the next step");
            assertEquals(3e-3, loop.options().training().lr(), "the peak lr: the scheduler's base_lrs");
            assertEquals(0.1, loop.options().training().weightDecay());
            assertEquals(0.95, loop.options().training().beta2());
            for (String said : List.of("at global_step 12", "written without the engine's config", "115,008 parameters",
                    "vocab 256, hidden 64, 2 layers, 4 heads, intermediate 128", "heads from preset tiny",
                    "AdamW state for 21 tensors at step 12", "LambdaLR schedule at step 12, lr 0.003 for the next step")) {
                assertTrue(started.summary().contains(said), said + " in: " + started.summary());
            }
            assertNull(started.flagWarning());
            float loss = loop.step();
            assertTrue(Float.isFinite(loss) && loss > 4 && loss < 7, "trains on: " + loss);
            Tensor step = (Tensor) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) loop.state().get("optimizer_state_dict"))
                    .get("state")).get(0L)).get("step");
            assertEquals(STEPS + 1, step.item_double());
        }
    }

    @Test
    void givenFlagsThatDisagreeAreListedAndTheCheckpointWinsUnlessOverridden() throws Exception {
        MinerStart.Started kept = resume("miner", "--device", "cpu", "--lr", "5e-4", "--model", "small",
                "--weight_decay", "0.2", "--threads", "2", "--batch_size", "3");
        try (MinerLoop loop = kept.loop()) {
            String warning = kept.flagWarning();
            assertEquals(1, warning.lines().count(), warning);
            for (String said : List.of("--lr 0.0005 (the checkpoint: 0.003; the checkpoint's is used; --override lr",
                    "--model gives vocab 256, hidden 512, 8 layers", "--weight_decay 0.2 (the checkpoint: 0.1")) {
                assertTrue(warning.contains(said), said + " in: " + warning);
            }
            assertTrue(!warning.contains("batch_size") && !warning.contains("threads"),
                    "a Python checkpoint does not record its batch or threads: " + warning);
            assertEquals(3e-3, loop.options().training().lr());
            assertEquals(64, loop.options().model().hidden());
            assertEquals(2, loop.options().threads());
            assertEquals(3, loop.options().training().batchSize());
        }
        MinerStart.Started overridden = resume("miner", "--device", "cpu", "--lr", "5e-4", "--warmup_steps", "200",
                "--override", "lr,warmup_steps");
        try (MinerLoop loop = overridden.loop()) {
            assertEquals(5e-4, loop.options().training().lr());
            assertEquals(5e-4 * (STEPS + 1) / 200.0, loop.lr(), 1e-15, "the new schedule at the checkpoint's step");
            assertTrue(overridden.flagWarning().contains("the flag is used: --override lr"), overridden.flagWarning());
        }
    }

    @Test
    void whatIsMissingIsDerivedOrStartedFresh() throws Exception {
        MinerStart.Started rotary = resume("rotary", "--device", "cpu");
        try (MinerLoop loop = rotary.loop()) {
            assertEquals(3, loop.options().model().heads(), "48 = 3 heads x 16: the saved inv_freq has 8 entries");
            assertTrue(rotary.summary().contains("heads from the saved rotary table"), rotary.summary());
        }
        MinerStart.Started bare = resume("weights_only", "--device", "cpu", "--warmup_steps", "100");
        try (MinerLoop loop = bare.loop()) {
            assertEquals(STEPS, loop.globalStep());
            assertEquals(1e-3 * (STEPS + 1) / 100.0, loop.lr(), 1e-15, "the flags' schedule, set to the checkpoint's step");
            assertTrue(bare.summary().contains("no optimizer state: AdamW starts with empty moments"), bare.summary());
        }
    }

    @Test
    void groupedQueryAndTiedCheckpointsResumeWithTheirShape(@TempDir Path out) throws Exception {
        MinerStart.Started gqa = resume("gqa", "--device", "cpu");
        try (MinerLoop loop = gqa.loop()) {
            assertEquals(2, loop.options().model().kvHeads(), "k_proj of 32 rows: 2 key/value heads of 16");
            Map<?, ?> python = (Map<?, ?>) TensorTrees.load(dir.resolve("gqa.pth"), MinerRun.PROGRESS_KEY).get("model_state_dict");
            TrainTrees.assertBitIdentical(new ArrayList<>(python.values()),
                    new ArrayList<>(((Map<?, ?>) loop.state().get("model_state_dict")).values()), "weights");
            float loss = loop.step();
            assertTrue(Float.isFinite(loss) && loss > 4 && loss < 7, "trains on: " + loss);
        }
        MinerStart.Started tied = resume("tied", "--device", "cpu");
        Path saved = out.resolve("tied-engine.pth");
        try (MinerLoop loop = tied.loop()) {
            assertTrue(loop.options().model().tiedEmbeddings(), "one storage under both names: tied");
            assertEquals(20, ((Map<?, ?>) ((Map<?, ?>) loop.state().get("optimizer_state_dict")).get("state")).size(),
                    "one AdamW entry for the tied pair, as torch.optim has");
            float loss = loop.step();
            assertTrue(Float.isFinite(loss) && loss > 4 && loss < 7, "trains on: " + loss);
            Map<?, ?> model = (Map<?, ?>) loop.state().get("model_state_dict");
            assertSame(model.get("model.embed_tokens.weight"), model.get(LlamaLayout.HEAD));
            TensorTrees.save(saved, loop.state());
        }
        String shared = PythonTorch.run("import sys, torch\n"
                + "sd = torch.load(sys.argv[1], weights_only=False)['model_state_dict']\n"
                + "print(sd['lm_head.weight'].data_ptr() == sd['model.embed_tokens.weight'].data_ptr())\n",
                saved.toString());
        assertEquals("True", shared.strip(), "PyTorch loads one storage under both names");
    }

    @Test
    void aStateThatFitsNoLlamaIsRefusedNamingTheFirstMisfit() throws Exception {
        Map<String, String> expected = Map.of(
                "bias", "'model.layers.0.self_attn.q_proj.bias' [64] is not a tensor of a LLaMA",
                "sgd", "optimizer_state_dict is not torch.optim.AdamW's: its param group has no betas");
        for (Map.Entry<String, String> misfit : expected.entrySet()) {
            CheckpointMismatchException e = assertThrows(CheckpointMismatchException.class,
                    () -> resume(misfit.getKey(), "--device", "cpu"), misfit.getKey());
            assertTrue(e.getMessage().startsWith(dir.resolve(misfit.getKey() + ".pth") + ": does not fit this miner: "),
                    e.getMessage());
            assertTrue(e.getMessage().contains(misfit.getValue()), e.getMessage());
            assertTrue(e.getMessage().endsWith("the file is left as it is"), e.getMessage());
        }
        CheckpointMismatchException past = assertThrows(CheckpointMismatchException.class,
                () -> resume("miner", MinerArguments.parse("--device", "cpu"), MinerFlags.none(), 10));
        assertTrue(past.getMessage().contains("its global_step is 12, past --max_steps 10"), past.getMessage());
    }
}
