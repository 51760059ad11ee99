package neuron.engine.miner;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.Tensors;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The checkpoint tree has the reference miner's keys and PyTorch's state_dict layouts (pth-format.md §10). */
class TrainStateLayoutTest {

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    @Test
    void checkpointBytesAreKnownBeforeTheFirstStep() {
        ModelConfig config = ModelConfig.preset("tiny");
        try (MinerLoop loop = MinerLoop.create(MinerOptions.preset("tiny").withDevice("cpu").withThreads(1))) {
            loop.step();
            assertEquals(neuron.engine.torch.TensorTrees.bytes(loop.state()), MinerLoop.checkpointBytes(config),
                    "staging is sized for the state as it is once AdamW has stepped");
        }
    }

    @Test
    void stateTreeUsesPyTorchLayouts() {
        ModelConfig config = ModelConfig.preset("tiny");
        try (MinerLoop loop = MinerLoop.create(MinerOptions.preset("tiny").withDevice("cpu").withThreads(1))) {
            Map<?, ?> empty = (Map<?, ?>) loop.state().get("optimizer_state_dict");
            assertEquals(Map.of(), empty.get("state"), "like Python, no per-parameter state before the first step");
            loop.step();
            Map<String, Object> tree = loop.state();
            assertEquals(List.of("global_step", "model_state_dict", "optimizer_state_dict", "scheduler_state_dict",
                    "config", "seed"), List.copyOf(tree.keySet()));
            assertEquals(1L, tree.get("global_step"));

            PyOrderedDict model = assertInstanceOf(PyOrderedDict.class, tree.get("model_state_dict"));
            assertEquals(List.copyOf(LlamaModel.shapes(config).keySet()), List.copyOf(model.keySet()));
            assertEquals(List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
                    "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
                    "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
                    "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight"),
                    List.copyOf(model.keySet()).subList(0, 10));
            assertEquals(List.of("model.norm.weight", "lm_head.weight"),
                    List.copyOf(model.keySet()).subList(model.size() - 2, model.size()));
            Tensor gate = (Tensor) model.get("model.layers.0.mlp.gate_proj.weight");
            assertArrayEquals(new long[]{config.intermediate(), config.hidden()}, Tensors.shape(gate));
            assertEquals(false, gate.requires_grad(), "state_dict tensors are detached, as Python's are");

            Map<?, ?> optimizer = (Map<?, ?>) tree.get("optimizer_state_dict");
            assertEquals(List.of("state", "param_groups"), List.copyOf(optimizer.keySet()));
            Map<?, ?> state = (Map<?, ?>) optimizer.get("state");
            assertEquals(model.size(), state.size());
            Map<?, ?> first = (Map<?, ?>) state.get(0L);
            assertEquals(List.of("step", "exp_avg", "exp_avg_sq"), List.copyOf(first.keySet()));
            Tensor step = (Tensor) first.get("step");
            assertSame(ScalarType.Float, step.scalar_type().intern());
            assertEquals(0, step.dim());
            assertEquals(1.0f, step.item_float());
            Map<?, ?> group = (Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(0);
            assertEquals(List.of("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach", "capturable",
                    "differentiable", "fused", "decoupled_weight_decay", "initial_lr", "params"), List.copyOf(group.keySet()));
            assertEquals(PyTuple.of(0.9, 0.95), group.get("betas"));
            assertNull(group.get("foreach"));
            assertEquals(0L, ((List<?>) group.get("params")).get(0));

            Map<?, ?> scheduler = (Map<?, ?>) tree.get("scheduler_state_dict");
            assertEquals(List.of("base_lrs", "last_epoch", "_step_count", "_is_initial", "_get_lr_called_within_step",
                    "_last_lr", "lr_lambdas"), List.copyOf(scheduler.keySet()));
            assertEquals(1L, scheduler.get("last_epoch"));
            assertEquals(2L, scheduler.get("_step_count"));
            assertEquals(java.util.Arrays.asList((Object) null), scheduler.get("lr_lambdas"));
            assertEquals(loop.lr(), ((List<?>) scheduler.get("_last_lr")).get(0));
            assertEquals(loop.lr(), group.get("lr"));
        }
    }
}
