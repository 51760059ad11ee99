package neuron.engine.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensors of Hugging Face's {@code LlamaForCausalLM} as this engine builds it (no biases), and the configuration
 * a state dict of that layout implies: vocabulary and hidden size from the embedding, the layer count from the layer
 * names, the MLP width from {@code gate_proj}, the key/value heads from {@code k_proj}'s rows.
 * Works on names and shapes only (no LibTorch), so {@code export} reads a file without it.
 *
 * <p>A state dict says nothing of the head count (q_proj is hidden x hidden whatever it is), nor whether the head is
 * tied (PyTorch saves a tied head under both names), RoPE's theta and scaling, the norm epsilon or the context
 * length: those come from {@link Hints}.
 */
public final class LlamaLayout {
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,6})\\.(.+)");
    /** A buffer Hugging Face saved beside the parameters before 4.31; the engine computes it. */
    private static final String ROTARY_BUFFER = "self_attn.rotary_emb.inv_freq";

    private LlamaLayout() {
    }

    /**
     * What the tensors do not tell: {@code flags} gives the head count when {@code headsGiven} (--heads), and the
     * context length, RoPE theta and norm epsilon.
     */
    public record Hints(ModelConfig flags, boolean headsGiven) {
    }

    /** A derived configuration and, in words, where its head count came from. */
    public record Derived(ModelConfig config, String headsFrom) {
    }

    /** The name PyTorch saves a tied head under, beside the embedding it shares. */
    public static final String HEAD = "lm_head.weight";

    /**
     * Tensor names and shapes of {@code LlamaForCausalLM.state_dict()}, in its order: with a tied head,
     * {@link #HEAD} too, as PyTorch saves it (see {@link #parameterShapes} for the trainable leaves).
     */
    public static Map<String, long[]> shapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long h = c.hidden();
        long m = c.intermediate();
        long kv = c.kvDim();
        shapes.put("model.embed_tokens.weight", new long[]{c.vocab(), h});
        for (int i = 0; i < c.layers(); i++) {
            String layer = "model.layers." + i + ".";
            shapes.put(layer + "self_attn.q_proj.weight", new long[]{h, h});
            shapes.put(layer + "self_attn.k_proj.weight", new long[]{kv, h});
            shapes.put(layer + "self_attn.v_proj.weight", new long[]{kv, h});
            shapes.put(layer + "self_attn.o_proj.weight", new long[]{h, h});
            shapes.put(layer + "mlp.gate_proj.weight", new long[]{m, h});
            shapes.put(layer + "mlp.up_proj.weight", new long[]{m, h});
            shapes.put(layer + "mlp.down_proj.weight", new long[]{h, m});
            shapes.put(layer + "input_layernorm.weight", new long[]{h});
            shapes.put(layer + "post_attention_layernorm.weight", new long[]{h});
        }
        shapes.put("model.norm.weight", new long[]{h});
        shapes.put(HEAD, new long[]{c.vocab(), h});
        return shapes;
    }

    /** The trainable leaves, in {@code parameters()} order: a tied head is the embedding, not a leaf of its own. */
    public static Map<String, long[]> parameterShapes(ModelConfig c) {
        Map<String, long[]> shapes = shapes(c);
        if (c.tiedEmbeddings()) {
            shapes.remove(HEAD);
        }
        return shapes;
    }

    /** The state dict without the buffers older Hugging Face versions saved ({@code rotary_emb.inv_freq}). */
    public static <V> Map<String, V> parameters(Map<String, V> stateDict) {
        Map<String, V> parameters = new LinkedHashMap<>(stateDict);
        parameters.keySet().removeIf(name -> name.endsWith("." + ROTARY_BUFFER));
        return parameters;
    }

    /**
     * The configuration of a state dict ({@code shapes}: its tensor names and shapes, in its order), checked
     * tensor by tensor against the layout that configuration has.
     *
     * @throws IllegalArgumentException naming the first tensor that does not fit a LLaMA
     */
    public static Derived derive(Map<String, long[]> shapes, Hints hints) {
        Map<String, long[]> parameters = parameters(shapes);
        long[] embedding = parameters.getOrDefault("model.embed_tokens.weight", parameters.get("lm_head.weight"));
        if (embedding == null || embedding.length != 2) {
            throw misfit(firstNonLlamaName(parameters) != null
                    ? "'" + firstNonLlamaName(parameters) + "' is not a tensor of a LLaMA"
                    : "it has no 'model.embed_tokens.weight' of shape [vocab, hidden]");
        }
        TreeSet<Integer> layers = new TreeSet<>();
        for (String name : parameters.keySet()) {
            Matcher m = LAYER.matcher(name);
            if (m.matches()) {
                layers.add(Integer.parseInt(m.group(1)));
            }
        }
        long[] gate = parameters.get("model.layers.0.mlp.gate_proj.weight");
        if (layers.isEmpty() || gate == null || gate.length != 2) {
            throw misfit("it has no 'model.layers.0.mlp.gate_proj.weight' of shape [intermediate, hidden]");
        }
        int vocab = Math.toIntExact(embedding[0]);
        int hidden = Math.toIntExact(embedding[1]);
        Heads heads = heads(shapes, hidden, hints);
        ModelConfig flags = hints.flags();
        ModelConfig config;
        try {
            long[] k = parameters.get("model.layers.0.self_attn.k_proj.weight");
            int headDim = hidden / heads.count();
            int kvHeads = k == null || k.length != 2 || k[0] % headDim != 0 ? heads.count()
                    : Math.toIntExact(k[0] / headDim);
            config = new ModelConfig(vocab, hidden, layers.size(), heads.count(), kvHeads, Math.toIntExact(gate[0]),
                    flags.seqLen(), flags.ropeTheta(), flags.rmsEps(), !parameters.containsKey(HEAD),
                    flags.ropeScaling());
        } catch (IllegalArgumentException e) {
            throw misfit(e.getMessage());
        }
        check(config, parameters);
        return new Derived(config, heads.from());
    }

    /**
     * Checks {@code shapes} (a state dict's names and shapes, in its order) against {@code config}'s layout: the
     * first unexpected or misshapen tensor in the file's order, else the first missing one, is named.
     */
    public static void check(ModelConfig config, Map<String, long[]> shapes) {
        Map<String, long[]> expected = shapes(config);
        for (Map.Entry<String, long[]> tensor : parameters(shapes).entrySet()) {
            long[] want = expected.get(tensor.getKey());
            if (want == null) {
                throw misfit("'" + tensor.getKey() + "' " + Arrays.toString(tensor.getValue())
                        + " is not a tensor of a LLaMA with " + describe(config));
            }
            if (!Arrays.equals(want, tensor.getValue())) {
                throw misfit("'" + tensor.getKey() + "' has shape " + Arrays.toString(tensor.getValue())
                        + " where a LLaMA with " + describe(config) + " has " + Arrays.toString(want));
            }
        }
        for (String name : expected.keySet()) {
            if (!shapes.containsKey(name) && !(name.equals(HEAD) && config.tiedEmbeddings())) {
                throw misfit("'" + name + "' is missing");
            }
        }
    }

    /** The shape in words, e.g. {@code vocab 256, hidden 64, 4 layers, 4 heads, intermediate 192}. */
    public static String describe(ModelConfig c) {
        return "vocab " + c.vocab() + ", hidden " + c.hidden() + ", " + c.layers() + " layers, " + c.heads()
                + " heads" + (c.kvHeads() != c.heads() ? " (" + c.kvHeads() + " key/value)" : "") + ", intermediate "
                + c.intermediate() + (c.tiedEmbeddings() ? ", tied head" : "");
    }

    private record Heads(int count, String from) {
    }

    /** --heads, else a saved rotary table (head_dim / 2 frequencies), else a preset of the same hidden size. */
    private static Heads heads(Map<String, long[]> shapes, int hidden, Hints hints) {
        if (hints.headsGiven()) {
            return new Heads(hints.flags().heads(), "--heads");
        }
        long[] invFreq = shapes.get("model.layers.0." + ROTARY_BUFFER);
        if (invFreq != null && invFreq.length == 1 && invFreq[0] > 0 && hidden % (2 * invFreq[0]) == 0) {
            return new Heads(Math.toIntExact(hidden / (2 * invFreq[0])), "the saved rotary table");
        }
        for (String preset : ModelConfig.PRESETS) {
            if (ModelConfig.preset(preset).hidden() == hidden) {
                return new Heads(ModelConfig.preset(preset).heads(), "preset " + preset + ", which has hidden size "
                        + hidden);
            }
        }
        throw misfit("a state dict does not tell the number of attention heads, and no preset has hidden size "
                + hidden + ": pass --heads N");
    }

    private static String firstNonLlamaName(Map<String, long[]> parameters) {
        Map<String, long[]> any = shapes(ModelConfig.preset("tiny"));
        for (String name : parameters.keySet()) {
            Matcher m = LAYER.matcher(name);
            String generic = m.matches() ? "model.layers.0." + m.group(2) : name;
            if (!any.containsKey(generic)) {
                return name;
            }
        }
        return null;
    }

    private static IllegalArgumentException misfit(String why) {
        return new IllegalArgumentException("model_state_dict does not fit a LLaMA: " + why);
    }
}
