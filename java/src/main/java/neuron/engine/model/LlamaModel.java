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
import static org.bytedeco.pytorch.global.torch.where;

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
    private final Tensor embed;
    private final Layer[] layers;
    private final Tensor norm;
    private final Tensor head;
    private final Tensor ropeCos;
    private final Tensor ropeSin;
    private Precision precision = Precision.FP32;

    /** Fresh weights drawn on the CPU from {@code seed}, so the initial model does not depend on the device. */
    public LlamaModel(ModelConfig config, long seed, Device device) {
        this.config = config;
        this.device = device;
        manual_seed(seed);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> shape : LlamaLayout.parameterShapes(config).entrySet()) {
            try (Tensor cpu = shape.getKey().endsWith("norm.weight")
                    ? ones(shape.getValue())
                    : normal(0.0, INIT_STD, shape.getValue())) {
                Tensor leaf = cpu.to(device, ScalarType.Float);
                leaf.requires_grad_(true);   // the returned reference does not own the tensor: keep `leaf`
                params.put(shape.getKey(), leaf);
            }
        }
        this.parameters = Collections.unmodifiableMap(params);
        this.embed = params.get("model.embed_tokens.weight");
        this.layers = new Layer[config.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = Layer.of(params, "model.layers." + i + ".");
        }
        this.norm = params.get("model.norm.weight");
        this.head = config.tiedEmbeddings() ? embed : params.get(LlamaLayout.HEAD);
        Map<String, Tensor> views = new LinkedHashMap<>();
        params.forEach((name, p) -> views.put(name, p.detach()));
        this.detachedViews = Collections.unmodifiableMap(views);
        Tensor[] rope = rotaryTables(config, device);
        this.ropeCos = rope[0];
        this.ropeSin = rope[1];
    }

    /** The trainable leaves' names and shapes, in {@code LlamaForCausalLM.parameters()} order (a tied head is none). */
    public static Map<String, long[]> shapes(ModelConfig c) {
        return LlamaLayout.parameterShapes(c);
    }

    /** The dtype of the matrix products from the next forward on; the weights stay float32. */
    public void computeIn(Precision newPrecision) {
        this.precision = newPrecision;
    }

    public Precision precision() {
        return precision;
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

    /** Detached aliases of the parameters (same storage, no autograd), one per parameter: the live weights. */
    public Map<String, Tensor> stateDict() {
        return detachedViews;
    }

    /**
     * {@code state_dict()} as PyTorch saves it: {@link #stateDict()} plus, for a tied head, {@code lm_head.weight}
     * as the very tensor of the embedding, so a writer stores one storage under both names.
     */
    public static Map<String, Tensor> withTiedHead(ModelConfig config, Map<String, Tensor> parameters) {
        String embedding = "model.embed_tokens.weight";
        if (!config.tiedEmbeddings() || !parameters.containsKey(embedding)) {
            return parameters;
        }
        Map<String, Tensor> saved = new LinkedHashMap<>(parameters);
        saved.put(LlamaLayout.HEAD, parameters.get(embedding));
        return saved;
    }

    /** Logits (batch, seq, vocab) for int64 token ids (batch, seq) on the model's device. */
    public Tensor forward(Tensor tokens) {
        long batch = tokens.size(0);
        long seq = tokens.size(1);
        long hidden = config.hidden();
        Tensor cos = ropeCos.narrow(0, 0, seq);
        Tensor sin = ropeSin.narrow(0, 0, seq);
        boolean grouped = config.kvHeads() != config.heads();   // each key/value head serves heads/kvHeads queries
        Tensor h = embedding(embed, tokens);
        for (Layer layer : layers) {
            Tensor x = rmsNorm(h, layer.attnNorm);
            Tensor q = rotate(heads(matmul(x, layer.q), batch, seq), cos, sin);
            Tensor k = rotate(kvHeads(matmul(x, layer.k), batch, seq), cos, sin);
            Tensor v = kvHeads(matmul(x, layer.v), batch, seq);
            Tensor attention = attention(q, k, v, grouped);
            h = h.add(matmul(attention.transpose(1, 2).reshape(batch, seq, hidden), layer.o));
            x = rmsNorm(h, layer.mlpNorm);
            h = h.add(matmul(silu(matmul(x, layer.gate)).mul(matmul(x, layer.up)), layer.down));
        }
        return matmul(rmsNorm(h, norm), head);
    }

    /** {@code x @ w.T}: in float32, or with both operands in bfloat16 and the result widened back. */
    private Tensor matmul(Tensor x, Tensor w) {
        if (precision == Precision.FP32) {
            return linear(x, w);
        }
        return linear(x.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16)).to(ScalarType.Float);
    }

    /** Causal attention (softmax(q·kᵀ/√d)·v): in float32, or over bfloat16 operands widened back. */
    private Tensor attention(Tensor q, Tensor k, Tensor v, boolean grouped) {
        if (precision == Precision.FP32) {
            return scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, true, new DoubleOptional(), grouped);
        }
        return scaled_dot_product_attention(q.to(ScalarType.BFloat16), k.to(ScalarType.BFloat16),
                v.to(ScalarType.BFloat16), new TensorOptional(), 0.0, true, new DoubleOptional(), grouped)
                .to(ScalarType.Float);
    }

    /** Mean next-token cross-entropy of {@code inputs} against {@code targets} (both batch × seq). */
    public Tensor loss(Tensor inputs, Tensor targets) {
        return cross_entropy_loss(forward(inputs).view(-1, config.vocab()), targets.reshape(-1));
    }

    /**
     * Copies {@code source}'s tensors (any device) into the parameters, checking names and shapes; with a tied head
     * the source may also hold {@code lm_head.weight}, which must then equal the embedding.
     */
    public void load(Map<?, ?> source) {
        if (!source.keySet().equals(parameters.keySet())
                && !source.keySet().equals(withTiedHead(config, parameters).keySet())) {
            List<Object> missing = new ArrayList<>(parameters.keySet());
            missing.removeAll(source.keySet());
            List<Object> extra = new ArrayList<>(source.keySet());
            extra.removeAll(parameters.keySet());
            throw new IllegalArgumentException("model_state_dict does not match the model: missing " + missing
                    + ", unexpected " + extra);
        }
        detachedViews.forEach((name, target) -> Tensors.copyInto(name, target, StateTrees.tensorLeaf(source, name)));
        if (config.tiedEmbeddings() && source.containsKey(LlamaLayout.HEAD)) {
            Tensor embedding = detachedViews.get("model.embed_tokens.weight");
            try (Tensor head = embedding.clone()) {
                Tensors.copyInto(LlamaLayout.HEAD, head, StateTrees.tensorLeaf(source, LlamaLayout.HEAD));
                if (!head.equal(embedding)) {
                    throw new IllegalArgumentException("lm_head.weight differs from model.embed_tokens.weight, but the "
                            + "model ties them");
                }
            }
        }
    }

    @Override
    public void close() {
        for (Tensor t : detachedViews.values()) {
            t.close();
        }
        for (Tensor t : parameters.values()) {
            t.close();
        }
        ropeCos.close();
        ropeSin.close();
    }

    /** One decoder layer's weights: attention's q/k/v/o, the MLP's gate/up/down, and the norm before each. */
    private record Layer(Tensor q, Tensor k, Tensor v, Tensor o, Tensor gate, Tensor up, Tensor down,
                         Tensor attnNorm, Tensor mlpNorm) {
        static Layer of(Map<String, Tensor> params, String prefix) {
            return new Layer(params.get(prefix + "self_attn.q_proj.weight"), params.get(prefix + "self_attn.k_proj.weight"),
                    params.get(prefix + "self_attn.v_proj.weight"), params.get(prefix + "self_attn.o_proj.weight"),
                    params.get(prefix + "mlp.gate_proj.weight"), params.get(prefix + "mlp.up_proj.weight"),
                    params.get(prefix + "mlp.down_proj.weight"), params.get(prefix + "input_layernorm.weight"),
                    params.get(prefix + "post_attention_layernorm.weight"));
        }
    }

    private Tensor rmsNorm(Tensor x, Tensor weight) {
        return rms_norm(x, new long[]{config.hidden()}, new TensorOptional(weight), new DoubleOptional(config.rmsEps()));
    }

    /** (batch, seq, hidden) → (batch, heads, seq, headDim). */
    private Tensor heads(Tensor x, long batch, long seq) {
        return x.view(batch, seq, config.heads(), config.headDim()).transpose(1, 2);
    }

    /** (batch, seq, kvDim) → (batch, kvHeads, seq, headDim). */
    private Tensor kvHeads(Tensor x, long batch, long seq) {
        return x.view(batch, seq, config.kvHeads(), config.headDim()).transpose(1, 2);
    }

    /** HF {@code apply_rotary_pos_emb}: x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x₂, x₁). */
    private Tensor rotate(Tensor x, Tensor cos, Tensor sin) {
        long half = config.headDim() / 2;
        Tensor rotated = cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /**
     * HF {@code _compute_llama3_parameters}: wavelengths longer than original/low_freq_factor are slowed by
     * {@code factor}, those shorter than original/high_freq_factor are kept, and the band between is interpolated.
     */
    private static Tensor llama3(Tensor invFreq, ModelConfig.RopeScaling s) {
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        Tensor wavelen = invFreq.reciprocal().mul(new Scalar(2 * Math.PI));
        Tensor slowed = where(wavelen.gt(new Scalar(lowWavelen)), invFreq.div(new Scalar(s.factor())), invFreq);
        Tensor smooth = wavelen.reciprocal().mul(new Scalar((double) s.originalMaxPositions()))
                .sub(new Scalar(s.lowFreqFactor())).div(new Scalar(s.highFreqFactor() - s.lowFreqFactor()));
        Tensor smoothed = smooth.neg().add(new Scalar(1.0)).mul(slowed).div(new Scalar(s.factor()))
                .add(smooth.mul(slowed));
        Tensor medium = wavelen.lt(new Scalar(highWavelen)).logical_not()
                .logical_and(wavelen.gt(new Scalar(lowWavelen)).logical_not());
        return where(medium, smoothed, slowed);
    }

    /** HF {@code LlamaRotaryEmbedding} in float32: inv_freq = 1/θ^(2i/d), tables (seqLen, headDim). */
    private static Tensor[] rotaryTables(ModelConfig config, Device device) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            long dim = config.headDim();
            Tensor exponents = arange(new Scalar(0L), new Scalar(dim), new Scalar(2L), f32).div(new Scalar((double) dim));
            Tensor invFreq = pow(new Scalar(config.ropeTheta()), exponents).reciprocal();
            if (config.ropeScaling() != null) {
                invFreq = llama3(invFreq, config.ropeScaling());
            }
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
