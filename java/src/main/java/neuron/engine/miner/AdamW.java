package neuron.engine.miner;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.StateTrees;
import neuron.engine.model.Tensors;
import neuron.engine.pth.PyTuple;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.zeros;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * {@code torch.optim.AdamW} (single-tensor path, foreach=False) written over LibTorch ops, so that its state is
 * ours to show and to restore: the presets do not map LibTorch's optimizer state. One parameter group.
 *
 * <p>Call {@link #step()} on the loop's thread, inside a {@code PointerScope}; the state tensors themselves are
 * allocated here, outside any scope, and live until {@link #close()}.
 */
public final class AdamW implements AutoCloseable {
    private final Tensor[] parameters;   // leaves: their .grad() is read
    private final Tensor[] values;       // detached aliases of the same storage: updated in place
    private final Tensor[] steps;        // 0-d float32 on the CPU, as Python keeps `step`
    private final Tensor[] expAvg;
    private final Tensor[] expAvgSq;
    private final boolean[] hasState;    // Python creates a parameter's state on its first step
    private final boolean[] updates;     // the parameters this optimizer updates; the others' state is null
    private double lr;
    private double initialLr;
    private double beta1;
    private double beta2;
    private double eps;
    private double weightDecay;

    public AdamW(LlamaModel model, TrainingOptions options) {
        this(model, options, i -> true);
    }

    /**
     * An AdamW that updates, and keeps state for, only the parameters {@code updates} accepts (by index): a rank's
     * share under ZeRO-1. The others are left to their owners.
     */
    public AdamW(LlamaModel model, TrainingOptions options, IntPredicate updates) {
        this.parameters = model.parameters().values().toArray(new Tensor[0]);
        this.values = model.stateDict().values().toArray(new Tensor[0]);
        int n = parameters.length;
        this.steps = new Tensor[n];
        this.expAvg = new Tensor[n];
        this.expAvgSq = new Tensor[n];
        this.hasState = new boolean[n];
        this.updates = new boolean[n];
        for (int i = 0; i < n; i++) {
            this.updates[i] = updates.test(i);
            if (!this.updates[i]) {
                continue;
            }
            steps[i] = zeros(new long[0], new TensorOptions(ScalarType.Float));
            expAvg[i] = zeros_like(values[i]);
            expAvgSq[i] = zeros_like(values[i]);
        }
        this.lr = options.lr();
        this.initialLr = options.lr();
        this.beta1 = options.beta1();
        this.beta2 = options.beta2();
        this.eps = options.eps();
        this.weightDecay = options.weightDecay();
    }

    /** What LambdaLR writes into {@code param_groups[0]['lr']} before each step. */
    public void setLr(double lr) {
        this.lr = lr;
    }

    public double lr() {
        return lr;
    }

    /** One AdamW update of every parameter that has a gradient, with the arithmetic of torch's single-tensor path. */
    public void step() {
        for (int i = 0; i < parameters.length; i++) {
            Tensor grad = parameters[i].grad();
            if (!updates[i] || !grad.defined()) {
                continue;
            }
            hasState[i] = true;
            steps[i].add_(new Scalar(1L));
            Tensor param = values[i];
            if (weightDecay != 0) {
                param.mul_(new Scalar(1 - lr * weightDecay));
            }
            expAvg[i].lerp_(grad, new Scalar(1 - beta1));
            expAvgSq[i].mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
            double step = steps[i].item_double();
            double biasCorrection1 = 1 - Math.pow(beta1, step);
            double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
            Tensor denom = expAvgSq[i].sqrt().div_(new Scalar(biasCorrection2Sqrt)).add_(new Scalar(eps));
            param.addcdiv_(expAvg[i], denom, new Scalar(-lr / biasCorrection1));
        }
    }

    /** {@code zero_grad(set_to_none=True)}: the next backward allocates fresh gradients. */
    public void zeroGrad() {
        for (Tensor p : parameters) {
            p.mutable_grad().reset();
        }
    }

    /**
     * {@code AdamW.state_dict()} as torch ≥ 2.7 lays it out (pth-format §10), plus the {@code initial_lr} an
     * LRScheduler adds. Tensor leaves are the live state tensors; a snapshot must copy them between steps.
     */
    public Map<String, Object> stateDict() {
        Map<Object, Object> state = new LinkedHashMap<>();
        for (int i = 0; i < parameters.length; i++) {
            if (hasState[i]) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("step", steps[i]);
                entry.put("exp_avg", expAvg[i]);
                entry.put("exp_avg_sq", expAvgSq[i]);
                state.put((long) i, entry);
            }
        }
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("lr", lr);
        group.put("betas", PyTuple.of(beta1, beta2));
        group.put("eps", eps);
        group.put("weight_decay", weightDecay);
        group.put("amsgrad", false);
        group.put("maximize", false);
        group.put("foreach", null);
        group.put("capturable", false);
        group.put("differentiable", false);
        group.put("fused", null);
        group.put("decoupled_weight_decay", true);
        group.put("initial_lr", initialLr);
        List<Object> indices = new ArrayList<>();
        for (long i = 0; i < parameters.length; i++) {
            indices.add(i);
        }
        group.put("params", indices);
        Map<String, Object> dict = new LinkedHashMap<>();
        dict.put("state", state);
        dict.put("param_groups", List.of(group));
        return dict;
    }

    /** Restores hyperparameters and state from a tree shaped like {@link #stateDict()}; tensors may live anywhere. */
    public void loadStateDict(Map<?, ?> dict) {
        List<?> groups = StateTrees.list(dict, "param_groups");
        if (groups.size() != 1 || !(groups.get(0) instanceof Map<?, ?> group)) {
            throw new IllegalArgumentException("optimizer state needs exactly one param group, has " + groups.size());
        }
        int groupSize = StateTrees.list(group, "params").size();
        if (groupSize != parameters.length) {
            throw new IllegalArgumentException("optimizer state covers " + groupSize + " parameters, the model has "
                    + parameters.length);
        }
        for (String unsupported : List.of("amsgrad", "maximize")) {
            if (Boolean.TRUE.equals(group.get(unsupported))) {
                throw new IllegalArgumentException("optimizer state uses " + unsupported + ", which this AdamW lacks");
            }
        }
        List<?> betas = StateTrees.list(group, "betas");
        lr = StateTrees.doubleValue(group, "lr");
        initialLr = group.containsKey("initial_lr") ? StateTrees.doubleValue(group, "initial_lr") : lr;
        beta1 = ((Number) betas.get(0)).doubleValue();
        beta2 = ((Number) betas.get(1)).doubleValue();
        eps = StateTrees.doubleValue(group, "eps");
        weightDecay = StateTrees.doubleValue(group, "weight_decay");
        Map<?, ?>[] entries = new Map<?, ?>[parameters.length];
        StateTrees.map(dict, "state").forEach((key, entry) -> {
            int index = ((Number) key).intValue();   // a Long here, maybe an Integer after a file round trip
            if (index < 0 || index >= entries.length || !(entry instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("optimizer state has a bad entry for parameter " + key);
            }
            if (!updates[index]) {
                throw new IllegalArgumentException("optimizer state has an entry for parameter " + key
                        + ", which another rank updates");
            }
            entries[index] = (Map<?, ?>) entry;
        });
        for (int i = 0; i < parameters.length; i++) {
            if (!updates[i]) {
                continue;
            }
            Map<?, ?> e = entries[i];
            hasState[i] = e != null;
            if (e == null) {
                steps[i].zero_();
                expAvg[i].zero_();
                expAvgSq[i].zero_();
                continue;
            }
            Tensors.copyInto("state[" + i + "].step", steps[i], StateTrees.tensorLeaf(e, "step"));
            Tensors.copyInto("state[" + i + "].exp_avg", expAvg[i], StateTrees.tensorLeaf(e, "exp_avg"));
            Tensors.copyInto("state[" + i + "].exp_avg_sq", expAvgSq[i], StateTrees.tensorLeaf(e, "exp_avg_sq"));
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < parameters.length; i++) {
            if (!updates[i]) {
                continue;
            }
            steps[i].close();
            expAvg[i].close();
            expAvgSq[i].close();
        }
    }
}
