package neuron.engine.miner;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.randint;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's model, AdamW, clipping and schedule against an independent computation in python3-torch
 * (Debian's 1.13: the test script writes the forward pass by hand and uses torch's own optimizer classes).
 * Skipped where that interpreter cannot import torch.
 */
@Slow
class TrainPythonParityTest {
    private static final ModelConfig CONFIG = ModelConfig.preset("tiny");

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    @Test
    void logitsMatchAHandWrittenPyTorchLlama(@TempDir Path dir) throws Exception {
        PythonTorch.assumeAvailable();
        try (LlamaModel model = new LlamaModel(CONFIG, 11, new Device("cpu"));
             PointerScope scope = new PointerScope()) {
            manual_seed(3);
            Tensor tokens = randint(CONFIG.vocab(), new long[]{2, 24});
            Map<String, Object> tree = new LinkedHashMap<>();
            tree.put("config", CONFIG.toMap());
            tree.put("params", new PyOrderedDict(model.stateDict()));
            tree.put("tokens", tokens);
            tree.put("logits", model.forward(tokens).detach());
            PythonExchange exchange = new PythonExchange(dir);
            exchange.write("forward", tree);
            Map<?, ?> result = exchange.run("forward");
            double diff = ((Number) result.get("max_abs_diff")).doubleValue();
            double scale = ((Number) result.get("max_abs_logit")).doubleValue();
            assertTrue(scale > 0.1, "logits are not trivially zero: " + scale);
            assertTrue(diff < 1e-5, "float32 logits within 1e-5 of a float64 reference: " + result);
        }
    }

    @Test
    void adamwClippingAndScheduleMatchTorchOptim(@TempDir Path dir) throws Exception {
        PythonTorch.assumeAvailable();
        TrainingOptions training = TrainingOptions.defaults().withSchedule(2e-3, 1, 10, 0.1);
        double maxNorm = 0.05;   // small enough that clipping really scales the gradients
        try (LlamaModel model = new LlamaModel(CONFIG, 5, new Device("cpu"));
             AdamW optimizer = new AdamW(model, training);
             PointerScope scope = new PointerScope()) {
            WarmupCosineSchedule schedule = new WarmupCosineSchedule(training);
            optimizer.setLr(schedule.lr());
            manual_seed(4);
            Tensor tokens = randint(CONFIG.vocab(), new long[]{4, CONFIG.seqLen() + 1});
            Tensor inputs = tokens.narrow(1, 0, CONFIG.seqLen());
            Tensor targets = tokens.narrow(1, 1, CONFIG.seqLen());
            trainStep(model, optimizer, schedule, inputs, targets, maxNorm);   // so that the loaded state is not empty

            Map<String, Object> tree = new LinkedHashMap<>();
            tree.put("before", TrainTrees.deepCopy(snapshot(model, optimizer, schedule)));
            model.loss(inputs, targets).backward();
            tree.put("grads", TrainTrees.deepCopy(grads(model)));
            GradientClipping.clip(model.parameters().values(), maxNorm);
            tree.put("clipped", TrainTrees.deepCopy(grads(model)));
            optimizer.step();
            optimizer.zeroGrad();
            optimizer.setLr(schedule.step());
            tree.put("after", snapshot(model, optimizer, schedule));
            tree.put("schedule", training.toMap());
            tree.put("max_norm", maxNorm);
            PythonExchange exchange = new PythonExchange(dir);
            exchange.write("adamw", tree);
            Map<?, ?> result = exchange.run("adamw");

            for (String key : List.of("clipped_grads", "params", "exp_avg", "exp_avg_sq")) {
                double relative = ((Number) result.get(key)).doubleValue();
                assertTrue(relative < 1e-6, key + " within 1e-6 (relative to its largest value): " + result);
            }
            assertEquals(true, result.get("steps_equal"), "step counters: " + result);
            assertEquals(((Number) result.get("expected_lr")).doubleValue(), ((Number) result.get("lr")).doubleValue(),
                    1e-15, "next lr: " + result);
            for (String key : List.of("last_epoch", "_step_count", "_last_lr")) {
                List<?> pair = (List<?>) result.get("scheduler_" + key);
                assertEquals(String.valueOf(pair.get(1)), String.valueOf(pair.get(0)), "scheduler " + key);
            }
        }
    }

    private static void trainStep(LlamaModel model, AdamW optimizer, WarmupCosineSchedule schedule, Tensor inputs,
                                  Tensor targets, double maxNorm) {
        model.loss(inputs, targets).backward();
        GradientClipping.clip(model.parameters().values(), maxNorm);
        optimizer.step();
        optimizer.zeroGrad();
        optimizer.setLr(schedule.step());
    }

    private static Map<String, Object> snapshot(LlamaModel model, AdamW optimizer, WarmupCosineSchedule schedule) {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("params", new PyOrderedDict(model.stateDict()));
        state.put("optimizer", optimizer.stateDict());
        state.put("scheduler", schedule.stateDict());
        return state;
    }

    private static PyOrderedDict grads(LlamaModel model) {
        PyOrderedDict grads = new PyOrderedDict();
        model.parameters().forEach((name, p) -> grads.put(name, p.grad()));
        return grads;
    }
}
