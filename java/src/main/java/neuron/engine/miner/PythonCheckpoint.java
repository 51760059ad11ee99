package neuron.engine.miner;

import neuron.engine.model.LlamaLayout;
import neuron.engine.model.StateTrees;
import neuron.engine.model.Tensors;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.torch.StoredTensor;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A miner checkpoint as the Python miner writes it: {@code global_step}, {@code model_state_dict} (Hugging Face
 * LLaMA names), {@code optimizer_state_dict} of {@code torch.optim.AdamW} and {@code scheduler_state_dict} of
 * {@code LambdaLR} (both optional), and no {@code config} or {@code seed}. What the engine's own checkpoint keeps
 * in {@code config} is derived instead: the model from the tensors' names and shapes, the peak lr and AdamW's
 * hyperparameters from the optimizer and scheduler state, the rest from the flags.
 */
final class PythonCheckpoint {
    private PythonCheckpoint() {
    }

    /** The tree in the engine's layout, the options it implies, and how they were found (for the log). */
    record Completed(Map<String, Object> tree, MinerOptions options, String origin) {
    }

    /** @throws IllegalArgumentException when the tree does not fit (the first misfit named) */
    static Completed complete(Map<?, ?> tree, long globalStep, MinerOptions flags, MinerFlags given) {
        Map<?, ?> stateDict = StateTrees.map(tree, "model_state_dict");
        Map<String, long[]> shapes = new LinkedHashMap<>();
        stateDict.forEach((name, value) -> {
            if (!(name instanceof String) || !Tensors.isLeaf(value)) {
                throw new IllegalArgumentException("model_state_dict holds " + name + " = " + value
                        + ", not a named tensor");
            }
            shapes.put((String) name, Tensors.shapeOf(value));
        });
        LlamaLayout.Derived derived = LlamaLayout.derive(shapes, new LlamaLayout.Hints(flags.model(), given.given("heads")));
        if (tied(stateDict)) {
            derived = new LlamaLayout.Derived(derived.config().withTiedEmbeddings(true), derived.headsFrom());
        }
        PyOrderedDict model = new PyOrderedDict();
        for (String name : LlamaLayout.parameters(shapes).keySet()) {
            Object t = stateDict.get(name);
            if (Tensors.scalarTypeOf(t) != org.bytedeco.pytorch.global.torch.ScalarType.Float) {
                throw new IllegalArgumentException("model_state_dict['" + name + "'] is " + Tensors.scalarTypeOf(t)
                        + "; the engine trains float32 (save the state dict after model.float())");
            }
            model.put(name, t);
        }

        Map<?, ?> optimizer = tree.get("optimizer_state_dict") instanceof Map<?, ?> m ? m : null;
        Map<?, ?> group = optimizer == null ? null : onlyGroup(optimizer);
        Map<?, ?> scheduler = tree.get("scheduler_state_dict") instanceof Map<?, ?> m ? m : null;
        TrainingOptions t = flags.training();
        double lr = scheduler != null ? number(StateTrees.list(scheduler, "base_lrs"), 0, "scheduler base_lrs")
                : group != null ? StateTrees.doubleValue(group, group.containsKey("initial_lr") ? "initial_lr" : "lr")
                : t.lr();
        if (group != null) {
            List<?> betas = StateTrees.list(group, "betas");
            t = new TrainingOptions(t.batchSize(), lr, number(betas, 0, "betas"), number(betas, 1, "betas"),
                    StateTrees.doubleValue(group, "eps"), StateTrees.doubleValue(group, "weight_decay"),
                    t.gradClip(), t.warmupSteps(), t.decaySteps(), t.minLrRatio(), t.gradAccum());
        } else {
            t = t.withSchedule(lr, t.warmupSteps(), t.decaySteps(), t.minLrRatio());
        }

        Map<String, Object> completed = new LinkedHashMap<>();
        completed.put("global_step", globalStep);
        completed.put("model_state_dict", model);
        List<String> origin = new ArrayList<>(List.of("written without the engine's config, as the Python miner "
                + "writes: model derived from its tensors (heads from " + derived.headsFrom() + ")"));
        if (optimizer != null) {
            completed.put("optimizer_state_dict", optimizer);
            origin.add("peak lr and AdamW's settings from its optimizer state");
        }
        if (scheduler != null) {
            completed.put("scheduler_state_dict", scheduler);
        } else {
            completed.put("scheduler_state_dict", WarmupCosineSchedule.at(t, globalStep).stateDict());
            origin.add("no scheduler state: the schedule is set to step " + globalStep);
        }
        origin.add("schedule shape, batch, data and seed from the flags");
        MinerOptions options = new MinerOptions(derived.config(), t, flags.data(), flags.seed(), flags.device(),
                flags.threads(), flags.precision());
        return new Completed(completed, options, String.join("; ", origin));
    }

    /** A head saved as the embedding's own storage: PyTorch's tie_word_embeddings. */
    private static boolean tied(Map<?, ?> stateDict) {
        Object embedding = stateDict.get("model.embed_tokens.weight");
        Object head = stateDict.get(LlamaLayout.HEAD);
        if (embedding instanceof StoredTensor e && head instanceof StoredTensor h) {
            return e.sharesStorageWith(h);
        }
        return embedding instanceof Tensor e && head instanceof Tensor h && e.data_ptr().address() == h.data_ptr().address();
    }

    private static Map<?, ?> onlyGroup(Map<?, ?> optimizer) {
        List<?> groups = StateTrees.list(optimizer, "param_groups");
        if (groups.size() != 1 || !(groups.get(0) instanceof Map<?, ?> group)) {
            throw new IllegalArgumentException("optimizer_state_dict has " + groups.size()
                    + " param groups; the engine's AdamW has one");
        }
        if (!group.containsKey("betas")) {
            throw new IllegalArgumentException("optimizer_state_dict is not torch.optim.AdamW's: its param group has no "
                    + "betas (it has " + group.keySet() + ")");
        }
        return group;
    }

    private static double number(List<?> values, int index, String what) {
        if (values.size() <= index || !(values.get(index) instanceof Number n)) {
            throw new IllegalArgumentException(what + " " + values + " has no number at [" + index + "]");
        }
        return n.doubleValue();
    }
}
