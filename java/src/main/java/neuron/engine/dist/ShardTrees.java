package neuron.engine.dist;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.StateTrees;
import neuron.engine.pth.PyOrderedDict;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * The trees of a sharded step, whatever their tensor leaves (file descriptors or LibTorch tensors): a rank's
 * shard holds {@code global_step}, the parameters it updated ({@code model_state_dict}), their AdamW state
 * ({@code optimizer_state_dict.state}, keyed by the parameter's index in the model), the schedule, config and
 * seed, and {@code shard = {rank, world_size}}. Merged, they are the tree one process checkpoints.
 */
final class ShardTrees {
    private ShardTrees() {
    }

    /** The model whose state the tree holds (its config, which wins over flags on a resume). */
    static ModelConfig modelOf(Map<?, ?> tree) {
        return ModelConfig.fromMap(StateTrees.map(StateTrees.map(tree, "config"), "model"));
    }

    /**
     * The one-process tree of {@code shards} (in rank order; one tree that has no {@code shard} entry is such a
     * tree already): every parameter in the model's order from the shard that holds it, the optimizer state of
     * every parameter any shard holds it for, the rest from the first shard. Throws if the shards do not fit
     * together: another step, a rank missing or twice, a parameter missing or twice.
     */
    static Map<String, Object> merge(List<? extends Map<?, ?>> shards) {
        Map<?, ?> first = shards.get(0);
        long step = StateTrees.longValue(first, "global_step");
        for (int r = 0; r < shards.size(); r++) {
            Map<?, ?> s = shards.get(r);
            if (StateTrees.longValue(s, "global_step") != step) {
                throw new IllegalArgumentException("shard " + r + " is of global_step "
                        + StateTrees.longValue(s, "global_step") + ", shard 0 of " + step);
            }
            long rank = s.containsKey("shard") ? StateTrees.longValue(StateTrees.map(s, "shard"), "rank") : 0;
            long world = s.containsKey("shard") ? StateTrees.longValue(StateTrees.map(s, "shard"), "world_size") : 1;
            if (rank != r || world != shards.size()) {
                throw new IllegalArgumentException("shard " + r + " of " + shards.size() + " says it is rank "
                        + rank + " of " + world);
            }
        }
        PyOrderedDict parameters = new PyOrderedDict();
        for (String name : LlamaModel.shapes(modelOf(first)).keySet()) {
            Object tensor = null;
            for (Map<?, ?> s : shards) {
                Map<?, ?> held = StateTrees.map(s, "model_state_dict");
                if (held.containsKey(name)) {
                    if (tensor != null) {
                        throw new IllegalArgumentException("two shards hold parameter " + name);
                    }
                    tensor = held.get(name);
                }
            }
            if (tensor == null) {
                throw new IllegalArgumentException("no shard holds parameter " + name);
            }
            parameters.put(name, tensor);
        }
        Map<Long, Object> state = new TreeMap<>();
        for (Map<?, ?> s : shards) {
            StateTrees.map(StateTrees.map(s, "optimizer_state_dict"), "state").forEach((index, entry) -> {
                if (state.put(((Number) index).longValue(), entry) != null) {
                    throw new IllegalArgumentException("two shards hold the optimizer state of parameter " + index);
                }
            });
        }
        Map<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("state", new LinkedHashMap<>(state));
        optimizer.put("param_groups", StateTrees.list(StateTrees.map(first, "optimizer_state_dict"), "param_groups"));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", step);
        tree.put("model_state_dict", parameters);
        tree.put("optimizer_state_dict", optimizer);
        tree.put("scheduler_state_dict", StateTrees.required(first, "scheduler_state_dict"));
        tree.put("config", StateTrees.required(first, "config"));
        tree.put("seed", StateTrees.required(first, "seed"));
        return tree;
    }

    /**
     * The part of one shard a rank restores from: every parameter it holds (ZeRO-1 keeps all parameters on every
     * rank) and the optimizer state of the parameters the rank updates; the rest as it is.
     */
    static Map<Object, Object> forRank(Map<?, ?> shard, IntPredicate updates) {
        Map<Object, Object> part = new LinkedHashMap<>(shard);
        Map<Object, Object> optimizer = new LinkedHashMap<>(StateTrees.map(shard, "optimizer_state_dict"));
        Map<Object, Object> state = new LinkedHashMap<>();
        StateTrees.map(optimizer, "state").forEach((index, entry) -> {
            if (updates.test(((Number) index).intValue())) {
                state.put(index, entry);
            }
        });
        optimizer.put("state", state);
        part.put("optimizer_state_dict", optimizer);
        return part;
    }
}
