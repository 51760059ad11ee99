package neuron.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.network.ModelHash;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import neuron.engine.validator.ValidatorRun;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.equal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator checkpoint as the Python reference system writes it ({@code torch.save} of model_state_dict,
 * global_step, scores, weights) resumes with its scores and weights, the rest taken from the chain; a readable
 * checkpoint that does not fit is refused (exit 2, one line) and left exactly as it was.
 */
@Slow
class ValidatorPythonCheckpointTest {
    /** argv: path, shapes (JSON name -> shape), what to write: "validator", "wrong-shape" or "miner". */
    private static final String WRITE = """
            import json, sys, torch
            from collections import OrderedDict
            path, shapes, kind = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
            torch.manual_seed(5)
            model = OrderedDict()
            for name, shape in shapes.items():
                if kind == 'wrong-shape' and name == 'model.embed_tokens.weight':
                    shape = [shape[0] + 1, shape[1]]
                model[name] = torch.ones(shape) if name.endswith('norm.weight') else torch.randn(shape) * 0.02
            scores = torch.zeros(256)
            scores[1], scores[2] = 0.25, 0.5
            weights = scores / scores.sum()
            if kind == 'miner':
                opt = torch.optim.AdamW([torch.nn.Parameter(t) for t in model.values()])
                torch.save({'global_step': 500, 'model_state_dict': model, 'optimizer_state_dict': opt.state_dict()}, path)
            else:
                torch.save({'model_state_dict': model, 'global_step': 7, 'scores': scores, 'weights': weights}, path)
            """;

    @TempDir
    Path dir;

    private Path written(String kind) throws Exception {
        PythonTorch.assumeAvailable();
        Map<String, List<Long>> shapes = new LinkedHashMap<>();
        LlamaModel.shapes(ModelConfig.preset("tiny")).forEach((name, shape) -> shapes.put(name, Arrays.stream(shape).boxed().toList()));
        Path file = dir.resolve(kind + ".pth");
        PythonTorch.run(WRITE, file.toString(), new ObjectMapper().writeValueAsString(shapes), kind);
        return file;
    }

    private String[] validator(Path checkpoint, long untilBlock) {
        return new String[]{"validator", "--checkpoint_path", checkpoint.toString(), "--chain", "local",
                "--block_time_ms", "50", "--until_block", Long.toString(untilBlock),
                "--staging_dir", dir.resolve("staging-" + checkpoint.getFileName()).toString(),
                "--submissions", dir.resolve("store").toString()};
    }

    @Test
    void theReferenceLayoutResumesWithItsScoresAndWeightsAndTakesTheRestFromTheChain() throws Exception {
        Path file = written("validator");
        Map<?, ?> python = TensorTrees.load(file, ValidatorRun.PROGRESS_KEY);
        NeuronProcess v = NeuronProcess.start(dir, dir.resolve("resume.log"), validator(file, 4));
        assertEquals(0, v.await(300), v.log());
        String log = v.log();
        assertTrue(log.contains("validator resumed from " + file + " at block -1, global_step 7; scores and weights "
                + "restored: 2 miners scored"), log);
        assertTrue(log.matches("(?s).*the checkpoint lacks block, block_hash, next_window, base_hash, "
                + "pending_aggregate, pending_base_hash, commitments; taken from the chain: block \\d+ .*"), log);
        assertFalse(log.contains("CANNOT BE LOADED"), log);

        Map<?, ?> resumed = TensorTrees.load(file, ValidatorRun.PROGRESS_KEY);
        assertEquals(4L, resumed.get("block"));
        assertEquals(7L, resumed.get("global_step"), "no window was due in the blocks it saw");
        for (String key : List.of("scores", "weights")) {
            assertTrue(equal((Tensor) python.get(key), (Tensor) resumed.get(key)), key + " came back as they were");
        }
        Map<?, ?> model = (Map<?, ?>) python.get("model_state_dict");
        Map<?, ?> resumedModel = (Map<?, ?>) resumed.get("model_state_dict");
        model.forEach((name, t) -> assertTrue(equal((Tensor) t, (Tensor) resumedModel.get(name)), (String) name));
        assertEquals(ModelHash.of(castTensors(model)).toHex(), resumed.get("base_hash"),
                "the network's base is its model");
        assertTrue(Files.exists(Path.of(file + ".1")), "the Python file is kept as the first backup");
    }

    @Test
    void aReadableCheckpointThatDoesNotFitIsRefusedAndLeftAsItWas() throws Exception {
        for (String kind : List.of("wrong-shape", "miner")) {
            Path file = written(kind);
            byte[] before = Files.readAllBytes(file);
            StringWriter err = new StringWriter();
            var cli = Main.commandLine();
            cli.setOut(new PrintWriter(new StringWriter(), true));
            cli.setErr(new PrintWriter(err, true));
            assertEquals(Main.EXIT_USAGE, cli.execute(validator(file, 4)), kind + ": " + err);
            String message = err.toString();
            assertEquals(1, message.lines().count(), message);
            assertTrue(message.contains(file + ": a validator checkpoint that does not fit: ")
                    && message.contains(kind.equals("miner") ? "no 'scores'" : "model.embed_tokens.weight")
                    && message.contains("the file is left as it is"), message);
            assertArrayEquals(before, Files.readAllBytes(file), kind + " is untouched");
            try (var files = Files.list(dir)) {
                List<String> beside = files.map(f -> f.getFileName().toString())
                        .filter(n -> n.startsWith(file.getFileName() + ".") && !n.endsWith(".journal")
                                && !n.endsWith(".lock")).toList();   // the lock file holds nothing
                assertEquals(List.of(), beside, "nothing moved aside, no backup rotated");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Tensor> castTensors(Map<?, ?> map) {
        return (Map<String, Tensor>) map;
    }
}
