package com.example.tinyminer;

import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.torch.StoredTensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.empty;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.bytedeco.pytorch.global.torch.zeros;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * This application's own model and optimizer: an MLP shaped like PyTorch's
 * {@code nn.Sequential(nn.Linear(32, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1))},
 * fitting a fixed smooth function of its input, with AdamW and a linear warm-up written here by hand, their
 * state laid out as {@code torch.optim.AdamW} and {@code LambdaLR} lay out theirs. Every batch and the initial
 * weights are functions of the step and the seed, so a resumed run retraces an uninterrupted one bit for bit.
 */
final class Trainer {
    static final int IN = 32;
    static final int HIDDEN = 128;
    static final int BATCH = 64;
    static final long SEED = 7;
    static final double LR = 3e-3;
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;
    static final double WEIGHT_DECAY = 0.01;
    static final int WARMUP = 50;
    private static final String[] NAMES = {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"};
    private static final long[][] SHAPES = {{HIDDEN, IN}, {HIDDEN}, {HIDDEN, HIDDEN}, {HIDDEN}, {1, HIDDEN}, {1}};
    private static final TensorOptions F32 = new TensorOptions(ScalarType.Float);

    /** Bytes of a checkpoint: the parameters, AdamW's two moments of each, and its six step counters. */
    static final long STATE_BYTES = 3L * Float.BYTES * (HIDDEN * IN + HIDDEN + HIDDEN * HIDDEN + HIDDEN + HIDDEN + 1)
            + Float.BYTES * NAMES.length;

    /** One parameter and what AdamW keeps for it: {@code state[i]} of {@code optimizer.state_dict()}. */
    private record Param(Tensor value, Tensor step, Tensor expAvg, Tensor expAvgSq) {
        static Param of(Tensor value) {
            value.requires_grad_(true);   // what it returns does not own the tensor: keep `value`
            return new Param(value, zeros(new long[0], F32), zeros_like(value), zeros_like(value));
        }
    }

    private final Param[] params;
    private long step;

    private Trainer(Param[] params, long step) {
        this.params = params;
        this.step = step;
    }

    /** Step 0: weights uniform in ±1/sqrt(fan_in), as nn.Linear draws them, from the seed. */
    static Trainer fresh() {
        Param[] params = new Param[NAMES.length];
        for (int i = 0; i < params.length; i++) {
            long[] shape = SHAPES[i];
            double bound = 1 / Math.sqrt(i % 2 == 0 ? shape[1] : SHAPES[i - 1][1]);
            float[] values = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
            for (int k = 0; k < values.length; k++) {
                values[k] = (float) ((2 * uniform(SEED, i, k) - 1) * bound);
            }
            params[i] = Param.of(tensor(values, shape));
        }
        return new Trainer(params, 0);
    }

    /**
     * The trainer whose {@link #state()} a checkpoint holds: {@code stored} is its tree with the tensors not yet
     * read ({@code TensorTrees.stored}); each is read straight into the tensor that is to hold it.
     */
    static Trainer restore(Map<?, ?> stored) {
        Trainer trainer = fresh();
        Map<?, ?> model = (Map<?, ?>) stored.get("model_state_dict");
        Map<?, ?> perParam = (Map<?, ?>) ((Map<?, ?>) stored.get("optimizer_state_dict")).get("state");
        for (int i = 0; i < NAMES.length; i++) {
            Param p = trainer.params[i];
            try (Tensor value = p.value().detach()) {   // the same memory, outside autograd
                ((StoredTensor) model.get(NAMES[i])).copyInto(NAMES[i], value);
            }
            if (perParam.get((long) i) instanceof Map<?, ?> moments) {
                ((StoredTensor) moments.get("step")).copyInto(NAMES[i] + " step", p.step());
                ((StoredTensor) moments.get("exp_avg")).copyInto(NAMES[i] + " exp_avg", p.expAvg());
                ((StoredTensor) moments.get("exp_avg_sq")).copyInto(NAMES[i] + " exp_avg_sq", p.expAvgSq());
            }
        }
        trainer.step = ((Number) stored.get("global_step")).longValue();
        return trainer;
    }

    long step() {
        return step;
    }

    /** The learning rate of this step: LambdaLR's {@code base_lr * min(1, (last_epoch + 1) / warmup)}. */
    double lr() {
        return LR * Math.min(1.0, (step + 1.0) / WARMUP);
    }

    /** The loss on this step's batch; leaves the gradients in the parameters. Changes no state. */
    float forwardBackward() {
        try (PointerScope scope = new PointerScope()) {
            float[] x = new float[BATCH * IN];
            float[] y = new float[BATCH];
            for (int b = 0; b < BATCH; b++) {
                double z = 0;
                for (int i = 0; i < IN; i++) {
                    x[b * IN + i] = (float) (2 * uniform(step, b, i) - 1);
                    z += x[b * IN + i] * (2 * uniform(SEED, -1, i) - 1);
                }
                y[b] = (float) Math.sin(3 * z / Math.sqrt(IN));
            }
            Tensor h = tensor(x, new long[]{BATCH, IN});
            for (int layer = 0; layer < 3; layer++) {
                h = linear(h, params[2 * layer].value(), new TensorOptional(params[2 * layer + 1].value()));
                h = layer < 2 ? h.tanh() : h;
            }
            Tensor loss = h.sub(tensor(y, new long[]{BATCH, 1})).pow(new Scalar(2.0)).mean();
            loss.backward();
            return loss.item_float();
        }
    }

    /** One AdamW update with this step's learning rate (torch's single-tensor arithmetic), then the next step. */
    void update() {
        double lr = lr();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            for (Param p : params) {
                Tensor grad = p.value().grad();
                double t = p.step().add_(new Scalar(1.0)).item_double();
                p.value().mul_(new Scalar(1 - lr * WEIGHT_DECAY));
                p.expAvg().lerp_(grad, new Scalar(1 - BETA1));
                p.expAvgSq().mul_(new Scalar(BETA2)).addcmul_(grad, grad, new Scalar(1 - BETA2));
                Tensor denom = p.expAvgSq().sqrt().div_(new Scalar(Math.sqrt(1 - Math.pow(BETA2, t))))
                        .add_(new Scalar(EPS));
                p.value().addcdiv_(p.expAvg(), denom, new Scalar(-lr / (1 - Math.pow(BETA1, t))));
                p.value().mutable_grad().reset();
            }
        }
        step++;
    }

    /**
     * The checkpoint: {@code global_step}, {@code model_state_dict}, {@code optimizer_state_dict} and
     * {@code scheduler_state_dict} as PyTorch's {@code state_dict()}s are; tensor leaves are the live tensors.
     */
    Map<String, Object> state() {
        PyOrderedDict model = new PyOrderedDict();
        Map<Object, Object> perParam = new LinkedHashMap<>();
        List<Object> ids = new ArrayList<>();
        for (int i = 0; i < params.length; i++) {
            model.put(NAMES[i], params[i].value());
            if (step > 0) {
                perParam.put((long) i, dict("step", params[i].step(), "exp_avg", params[i].expAvg(),
                        "exp_avg_sq", params[i].expAvgSq()));
            }
            ids.add((long) i);
        }
        Map<Object, Object> group = dict("lr", lr(), "betas", PyTuple.of(BETA1, BETA2), "eps", EPS,
                "weight_decay", WEIGHT_DECAY, "amsgrad", false, "foreach", null, "maximize", false,
                "capturable", false, "differentiable", false, "fused", null, "initial_lr", LR, "params", ids);
        Map<Object, Object> scheduler = dict("base_lrs", List.of(LR), "last_epoch", step, "verbose", false,
                "_step_count", step + 1, "_get_lr_called_within_step", false, "_last_lr", List.of(lr()),
                "lr_lambdas", Arrays.asList((Object) null));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", step);
        tree.put("model_state_dict", model);
        tree.put("optimizer_state_dict", dict("state", perParam, "param_groups", List.of(group)));
        tree.put("scheduler_state_dict", scheduler);
        return tree;
    }

    /** A Python dict: keys and values alternate, in order. */
    private static Map<Object, Object> dict(Object... keysAndValues) {
        Map<Object, Object> d = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            d.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return d;
    }

    private static Tensor tensor(float[] values, long[] shape) {
        Tensor t = empty(shape, F32, null);
        new FloatPointer(t.data_ptr()).capacity(values.length).put(values);
        return t;
    }

    /** A uniform double in [0, 1) from three integers (SplitMix64's finalizer). */
    private static double uniform(long a, long b, long c) {
        long z = a * 0x9E3779B97F4A7C15L + b * 0xC2B2AE3D27D4EB4FL + c * 0x165667B19E3779F9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return ((z ^ (z >>> 31)) >>> 11) * 0x1.0p-53;
    }
}
