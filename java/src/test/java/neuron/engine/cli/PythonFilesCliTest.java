package neuron.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerOptions;
import neuron.engine.miner.MinerRun;
import neuron.engine.miner.MinerStart;
import neuron.engine.model.TokenData;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line on checkpoints from both worlds: {@code export} writes a Hugging Face directory that Python reads
 * back with the standard library and torch.frombuffer, tensor for tensor equal to the checkpoint; {@code miner
 * --init_from} starts from it; a readable checkpoint that does not fit is refused with exit 2 and one line, and is
 * left byte for byte where it was, never called corrupt.
 */
@Slow
class PythonFilesCliTest {
    @TempDir
    static Path dir;
    private static Path script;
    private static Path engineCheckpoint;

    @BeforeAll
    static void checkpoints() throws Exception {
        PythonTorch.assumeAvailable();
        LibTorch.load();
        script = Path.of(PythonFilesCliTest.class.getResource("/neuron/engine/miner/python_miner.py").toURI());
        PythonTorch.runFile(script, "save", dir.toString(), "3", "miner", "bias");
        engineCheckpoint = dir.resolve("engine.pth");
        try (MinerLoop loop = MinerLoop.create(MinerArguments.parse("--device", "cpu", "--batch_size", "2"))) {
            loop.step();
            loop.step();
            TensorTrees.save(engineCheckpoint, loop.state());
        }
    }

    @Test
    void exportWritesWhatPythonReadsBackTensorForTensor() throws Exception {
        Path fromEngine = dir.resolve("hf-engine");
        Path fromPython = dir.resolve("hf-python");
        CliRun engine = CliRun.of("export", engineCheckpoint.toString(), "--to", fromEngine.toString());
        assertEquals(Main.EXIT_OK, engine.status(), engine.err());
        assertTrue(engine.out().contains(": 39 tensors, "), engine.out());
        CliRun python = CliRun.of("export", dir.resolve("miner.pth").toString(), "--to", fromPython.toString());
        assertEquals(Main.EXIT_OK, python.status(), python.err());

        for (Path[] pair : List.of(new Path[]{fromEngine, engineCheckpoint}, new Path[]{fromPython, dir.resolve("miner.pth")})) {
            String out = PythonTorch.runFile(script, "safetensors", pair[0].toString(), pair[1].toString());
            String[] lines = out.strip().split("\n");
            Map<?, ?> check = new ObjectMapper().readValue(lines[lines.length - 1], Map.class);
            assertEquals(true, check.get("all_equal"), check.toString());
            assertEquals(check.get("checkpoint_tensors"), check.get("tensors"), check.toString());
            assertEquals(true, check.get("tiled"), check.toString());
            assertEquals(true, check.get("header_aligned"), check.toString());
            assertEquals(true, check.get("config_matches_shapes"), check.toString());
            assertEquals(Map.of("format", "pt"), check.get("metadata"));
            assertEquals(List.of("LlamaForCausalLM"), check.get("architectures"));
            assertEquals(4, check.get("heads"));
            assertEquals(4, check.get("kv_heads"));
        }

        CliRun misfit = CliRun.of("export", dir.resolve("bias.pth").toString(), "--to", dir.resolve("hf-bias").toString());
        assertEquals(Main.EXIT_USAGE, misfit.status());
        assertTrue(misfit.err().contains("'model.layers.0.self_attn.q_proj.bias' [64] is not a tensor of a LLaMA"), misfit.err());
        Path cut = dir.resolve("cut.pth");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(engineCheckpoint), 5000));
        CliRun damaged = CliRun.of("export", cut.toString(), "--to", dir.resolve("hf-cut").toString());
        assertEquals(Main.EXIT_FAILURE, damaged.status(), damaged.err());
    }

    /** What worked before must keep working: Python's own AdamW and LambdaLR take over an engine checkpoint. */
    @Test
    void anEngineCheckpointTrainsOnInPythonWithTheEnginesLoss() throws Exception {
        MinerOptions options = MinerArguments.parse("--device", "cpu", "--batch_size", "2");
        int width = options.model().seqLen() + 1;
        long[] batch = new long[2 * width];
        TokenData.builtin().fillBatch(options.seed(), 2, 2, width, batch);
        List<List<Long>> rows = List.of(Arrays.stream(batch, 0, width).boxed().toList(),
                Arrays.stream(batch, width, 2 * width).boxed().toList());
        Path tokens = dir.resolve("tokens.json");
        new ObjectMapper().writeValue(tokens.toFile(), rows);
        float engineLoss;
        double engineLr;
        try (MinerLoop loop = MinerLoop.restore(TensorTrees.load(engineCheckpoint, MinerRun.PROGRESS_KEY))) {
            engineLr = loop.lr();
            engineLoss = loop.step();   // the batch of step 2, the one written above
        }
        String out = PythonTorch.runFile(script, "continue", engineCheckpoint.toString(), tokens.toString());
        String[] lines = out.strip().split("\n");
        Map<?, ?> python = new ObjectMapper().readValue(lines[lines.length - 1], Map.class);
        assertEquals(engineLoss, ((Number) python.get("loss")).doubleValue(), 1e-5 * engineLoss,
                "PyTorch's loss (float64) of the same weights and batch: " + python);
        assertEquals(engineLr, ((Number) python.get("lr")).doubleValue(), 0, "the lr the schedule had reached");
        assertEquals(3.0, ((Number) python.get("step")).doubleValue(), "AdamW's step went on from the engine's 2");
    }

    @Test
    void minerStartsFromAnExportedDirectory() throws Exception {
        Path hf = dir.resolve("hf-init");
        assertEquals(Main.EXIT_OK, CliRun.of("export", engineCheckpoint.toString(), "--to", hf.toString()).status());
        MinerArguments.Parsed parsed = MinerArguments.command("--device", "cpu", "--init_from", hf.toString(),
                "--model", "small");
        Map<?, ?> expected = (Map<?, ?>) TensorTrees.load(engineCheckpoint, MinerRun.PROGRESS_KEY).get("model_state_dict");
        MinerStart.Started started = MinerStart.begin(parsed.options(), parsed.flags());
        try (MinerLoop loop = started.loop()) {
            assertEquals(0, loop.globalStep());
            Map<String, Tensor> weights = loop.model().stateDict();
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(weights.keySet()));
            expected.forEach((name, tensor) -> assertTrue(((Tensor) tensor).equal(weights.get(name)), "" + name));
            assertTrue(started.summary().contains("miner starting at global_step 0 from " + hf), started.summary());
            assertTrue(started.flagWarning().contains("--model gives vocab 256, hidden 512"), started.flagWarning());
        }
    }

    @Test
    void aReadableCheckpointThatDoesNotFitIsRefusedAndLeftAsItIs() throws Exception {
        Path bias = dir.resolve("bias.pth");
        String before = sha256(bias);
        CliRun refused = CliRun.of("miner", "--checkpoint-path", bias.toString(), "--staging-dir", dir.resolve("staging-bias").toString(),
                "--max-steps", "5", "--device", "cpu");
        assertEquals(Main.EXIT_USAGE, refused.status(), refused.err());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().startsWith("neuron miner: " + bias + ": does not fit this miner: "), refused.err());
        assertTrue(refused.err().contains("'model.layers.0.self_attn.q_proj.bias' [64] is not a tensor of a LLaMA"), refused.err());
        assertEquals(before, sha256(bias), "the file is untouched");
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.map(f -> f.getFileName().toString())
                    .noneMatch(name -> name.startsWith("bias.pth.") && !name.equals("bias.pth.lock")), "no .corrupt, no backup");
        }

        Path engine = dir.resolve("engine-copy.pth");
        Files.copy(engineCheckpoint, engine);
        CliRun past = CliRun.of("miner", "--checkpoint_path", engine.toString(), "--staging_dir", dir.resolve("staging-e").toString(),
                "--max_steps", "1");
        assertEquals(Main.EXIT_USAGE, past.status(), past.err());
        assertTrue(past.err().contains("its global_step is 2, past --max_steps 1"), past.err());
        assertEquals(sha256(engineCheckpoint), sha256(engine));
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
