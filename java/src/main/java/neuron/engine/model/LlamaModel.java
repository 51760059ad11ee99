package neuron.engine.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.arange;
import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.cross_entropy_loss;
import static org.bytedeco.pytorch.global.torch.embedding;
import static org.bytedeco.pytorch.global.torch.linear;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.normal;
import static org.bytedeco.pytorch.global.torch.ones;
import static org.bytedeco.pytorch.global.torch.outer;
import static org.bytedeco.pytorch.global.torch.pow;
import static org.bytedeco.pytorch.global.torch.rms_norm;
import static org.bytedeco.pytorch.global.torch.scaled_dot_product_attention;
import static org.bytedeco.pytorch.global.torch.silu;

/**
 * A LLaMA decoder written as functional LibTorch ops over leaf tensors named exactly as Hugging Face's
 * {@code LlamaForCausalLM.state_dict()} names them, in the same order. Plain tensors instead of nested
 * {@code Module}s keep every parameter (and so the optimizer's view of it) directly reachable.
 */
public final class LlamaModel implements AutoCloseable {
    private static final double INIT_STD = 0.02;   // LlamaConfig.initializer_range

    private final ModelConfig config;
    private final Device device;
    private final Map<String, Tensor> parameters;      // leaves with requires_grad, in HF order
    private final Map<String, Tensor> detachedViews;   // the same storage without autograd: what state_dict() shows
    private final Tensor[] flat;
    private final Tensor ropeCos;
    private final Tensor ropeSin;

    /** Fresh weights drawn on the CPU from {@code seed}, so the initial model does not depend on the device. */
    public LlamaModel(ModelConfig config, long seed, Device device) {
        this.config = config;
        this.device = device;
        manual_seed(seed);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> shape : shapes(config).entrySet()) {
            try (Tensor cpu = shape.getKey().endsWith("norm.weight")
                    ? ones(shape.getValue())
                    : normal(0.0, INIT_STD, shape.getValue())) {
                Tensor leaf = cpu.to(device, ScalarType.Float);
                leaf.requires_grad_(true);   // the returned reference does not own the tensor: keep `leaf`
                params.put(shape.getKey(), leaf);
            }
        }
        this.parameters = Collections.unmodifiableMap(params);
        this.flat = params.values().toArray(new Tensor[0]);
        Map<String, Tensor> views = new LinkedHashMap<>();
        params.forEach((name, p) -> views.put(name, p.detach()));
        this.detachedViews = Collections.unmodifiableMap(views);
        Tensor[] rope = rotaryTables(config, device);
        this.ropeCos = rope[0];
        this.ropeSin = rope[1];
    }

    /** Parameter names and shapes of {@code LlamaForCausalLM}, in its {@code state_dict()} order. */
    public static Map<String, long[]> shapes(ModelConfig c) {
        return LlamaLayout.shapes(c);
    }

    public ModelConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The trainable leaves (requires_grad), HF names in HF order. */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** Detached aliases of the parameters (same storage, no autograd): a live {@code state_dict()}. */
    public Map<String, Tensor> stateDict() {
        return detachedViews;
    }

    /** Logits (batch, seq, vocab) for int64 token ids (batch, seq) on the model's device. */
    public Tensor forward(Tensor tokens) {
        long batch = tokens.size(0);
        long seq = tokens.size(1);
        long hidden = config.hidden();
        Tensor cos = ropeCos.narrow(0, 0, seq);
        Tensor sin = ropeSin.narrow(0, 0, seq);
        Tensor h = embedding(flat[0], tokens);
        int perLayer = 9;
        for (int i = 0; i < config.layers(); i++) {
            int base = 1 + i * perLayer;
            Tensor x = rmsNorm(h, flat[base + 7]);
            Tensor q = rotate(heads(linear(x, flat[base]), batch, seq), cos, sin);
            Tensor k = rotate(heads(linear(x, flat[base + 1]), batch, seq), cos, sin);
            Tensor v = heads(linear(x, flat[base + 2]), batch, seq);
            Tensor attention = scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, true,
                    new DoubleOptional(), false);
            h = h.add(linear(attention.transpose(1, 2).reshape(batch, seq, hidden), flat[base + 3]));
            x = rmsNorm(h, flat[base + 8]);
            Tensor gated = silu(linear(x, flat[base + 4])).mul(linear(x, flat[base + 5]));
            h = h.add(linear(gated, flat[base + 6]));
        }
        int end = 1 + config.layers() * perLayer;
        return linear(rmsNorm(h, flat[end]), flat[end + 1]);
    }

    /** Mean next-token cross-entropy of {@code inputs} against {@code targets} (both batch × seq). */
    public Tensor loss(Tensor inputs, Tensor targets) {
        return cross_entropy_loss(forward(inputs).view(-1, config.vocab()), targets.reshape(-1));
    }

    /** Copies {@code source}'s tensors (any device) into the parameters, checking names and shapes. */
    public void load(Map<?, ?> source) {
        if (!source.keySet().equals(parameters.keySet())) {
            List<Object> missing = new ArrayList<>(parameters.keySet());
            missing.removeAll(source.keySet());
            List<Object> extra = new ArrayList<>(source.keySet());
            extra.removeAll(parameters.keySet());
            throw new IllegalArgumentException("model_state_dict does not match the model: missing " + missing
                    + ", unexpected " + extra);
        }
        detachedViews.forEach((name, target) -> Tensors.copyInto(name, target, StateTrees.tensorLeaf(source, name)));
    }

    @Override
    public void close() {
        for (Tensor t : detachedViews.values()) {
            t.close();
        }
        for (Tensor t : flat) {
            t.close();
        }
        ropeCos.close();
        ropeSin.close();
    }

    private Tensor rmsNorm(Tensor x, Tensor weight) {
        return rms_norm(x, new long[]{config.hidden()}, new TensorOptional(weight), new DoubleOptional(config.rmsEps()));
    }

    /** (batch, seq, hidden) → (batch, heads, seq, headDim). */
    private Tensor heads(Tensor x, long batch, long seq) {
        return x.view(batch, seq, config.heads(), config.headDim()).transpose(1, 2);
    }

    /** HF {@code apply_rotary_pos_emb}: x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x₂, x₁). */
    private Tensor rotate(Tensor x, Tensor cos, Tensor sin) {
        long half = config.headDim() / 2;
        Tensor rotated = cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /** HF {@code LlamaRotaryEmbedding} in float32: inv_freq = 1/θ^(2i/d), tables (seqLen, headDim). */
    private static Tensor[] rotaryTables(ModelConfig config, Device device) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            long dim = config.headDim();
            Tensor exponents = arange(new Scalar(0L), new Scalar(dim), new Scalar(2L), f32).div(new Scalar((double) dim));
            Tensor invFreq = pow(new Scalar(config.ropeTheta()), exponents).reciprocal();
            Tensor positions = arange(new Scalar((long) config.seqLen()), f32);
            Tensor freqs = outer(positions, invFreq);
            Tensor angles = cat(new TensorVector(freqs, freqs), -1);
            Tensor cos = angles.cos().to(device, ScalarType.Float);
            Tensor sin = angles.sin().to(device, ScalarType.Float);
            cos.retainReference();   // outlives the scope (detach would release, and so free, it)
            sin.retainReference();
            return new Tensor[]{cos, sin};
        }
    }
}
