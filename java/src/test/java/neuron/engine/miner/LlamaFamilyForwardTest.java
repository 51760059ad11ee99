package neuron.engine.miner;

import neuron.engine.model.LlamaLayout;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.ModelFamilies;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.testing.PythonTorch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grouped-query attention, tied embeddings and LLaMA-3 RoPE scaling against the test's own PyTorch LLaMA
 * (train_reference.py: key/value heads repeated with repeat_interleave, the embedding as the head, LLaMA-3's
 * frequencies, all in float64) on the same weights. The engine computes in float32: logits agree within 1e-5.
 */
class LlamaFamilyForwardTest {
    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    @Test
    void eachShapeMatchesAPyTorchReferenceForward(@TempDir Path dir) throws Exception {
        PythonTorch.assumeAvailable();
        for (Map.Entry<String, ModelConfig> shape : ModelFamilies.all().entrySet()) {
            ModelConfig config = shape.getValue();
            try (LlamaModel model = new LlamaModel(config, 11, new Device("cpu"));
                 PointerScope scope = new PointerScope()) {
                assertEquals(config.tiedEmbeddings(), !model.parameters().containsKey(LlamaLayout.HEAD),
                        "a tied head is no parameter of its own");
                manual_seed(3);
                Tensor tokens = randint(config.vocab(), new long[]{2, 40});
                Map<String, Object> tree = new LinkedHashMap<>();
                tree.put("config", config.toMap());
                tree.put("params", new PyOrderedDict(LlamaModel.withTiedHead(config, model.stateDict())));
                tree.put("tokens", tokens);
                tree.put("logits", model.forward(tokens).detach());
                Path caseDir = Files.createDirectories(dir.resolve(shape.getKey()));
                PythonExchange exchange = new PythonExchange(caseDir);
                exchange.write("forward", tree);
                Map<?, ?> result = exchange.run("forward");
                double diff = ((Number) result.get("max_abs_diff")).doubleValue();
                double scale = ((Number) result.get("max_abs_logit")).doubleValue();
                assertTrue(scale > 0.1, shape.getKey() + ": logits are not trivially zero: " + scale);
                assertTrue(diff < 1e-5, shape.getKey() + ": float32 logits within 1e-5 of float64 PyTorch: " + result);
            }
        }
    }

    @Test
    void llama3ScalingChangesThePositions() {
        ModelConfig scaled = ModelFamilies.LLAMA_3_2;
        ModelConfig plain = new ModelConfig(scaled.vocab(), scaled.hidden(), scaled.layers(), scaled.heads(),
                scaled.kvHeads(), scaled.intermediate(), scaled.seqLen(), scaled.ropeTheta(), scaled.rmsEps(), true, null);
        try (LlamaModel a = new LlamaModel(scaled, 5, new Device("cpu"));
             LlamaModel b = new LlamaModel(plain, 5, new Device("cpu"));
             PointerScope scope = new PointerScope()) {
            manual_seed(3);
            Tensor tokens = randint(scaled.vocab(), new long[]{1, 64});
            assertFalse(a.forward(tokens).allclose(b.forward(tokens)), "the same weights, other frequencies");
        }
    }
}
