package neuron.engine.model;

import neuron.engine.checkpoint.UsageException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a LLaMA-style decoder: what Hugging Face's {@code LlamaConfig} calls vocab_size, hidden_size,
 * num_hidden_layers, num_attention_heads, num_key_value_heads (fewer than the query heads: grouped-query attention),
 * intermediate_size, max_position_embeddings, rope_theta, rms_norm_eps, tie_word_embeddings (the output head is
 * the input embedding) and rope_scaling (null, or LLaMA-3's).
 */
public record ModelConfig(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, int seqLen,
                          double ropeTheta, double rmsEps, boolean tiedEmbeddings, RopeScaling ropeScaling) {

    public static final List<String> PRESETS = List.of("tiny", "small", "llama-1b");

    /** LLaMA-3's {@code rope_scaling} (type "llama3"): long wavelengths slowed by {@code factor}, a smooth band between. */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        public RopeScaling {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0) {
                throw new IllegalArgumentException("rope_scaling llama3 needs factor > 0, 0 < low_freq_factor < "
                        + "high_freq_factor and original_max_position_embeddings > 0");
            }
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("rope_type", "llama3");
            map.put("factor", factor);
            map.put("low_freq_factor", lowFreqFactor);
            map.put("high_freq_factor", highFreqFactor);
            map.put("original_max_position_embeddings", (long) originalMaxPositions);
            return map;
        }

        /** A config's rope_scaling: null stays null, "llama3" is read, any other type is refused. */
        static RopeScaling fromMap(Object value) {
            if (value == null) {
                return null;
            }
            if (!(value instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("rope_scaling must be an object, got " + value);
            }
            Object type = map.containsKey("rope_type") ? map.get("rope_type") : map.get("type");
            if (!"llama3".equals(type)) {
                throw new IllegalArgumentException("rope_scaling of type '" + type + "' is not implemented (only "
                        + "'llama3'); training without it would use the wrong positions");
            }
            return new RopeScaling(StateTrees.doubleValue(map, "factor"), StateTrees.doubleValue(map, "low_freq_factor"),
                    StateTrees.doubleValue(map, "high_freq_factor"),
                    StateTrees.intValue(map, "original_max_position_embeddings"));
        }
    }

    public ModelConfig {
        positive("vocab", vocab);
        positive("hidden", hidden);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("intermediate", intermediate);
        positive("seqLen", seqLen);
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " must split into " + heads
                    + " heads of an even size (rotary embeddings rotate pairs)");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads must split evenly over " + kvHeads
                    + " key/value heads");
        }
    }

    /** Multi-head attention (as many key/value heads as query heads), an untied head, unscaled RoPE. */
    public ModelConfig(int vocab, int hidden, int layers, int heads, int intermediate, int seqLen, double ropeTheta,
                       double rmsEps) {
        this(vocab, hidden, layers, heads, heads, intermediate, seqLen, ropeTheta, rmsEps, false, null);
    }

    /** {@code tiny}: the tests' model (about 250 k parameters); {@code small}: about 25 M; {@code llama-1b}: the reference system's. */
    public static ModelConfig preset(String name) {
        return switch (name) {
            case "tiny" -> new ModelConfig(256, 64, 4, 4, 192, 64, 10000.0, 1e-6);
            case "small" -> new ModelConfig(256, 512, 8, 8, 1376, 256, 10000.0, 1e-6);
            case "llama-1b" -> new ModelConfig(32000, 2048, 16, 8, 8192, 2048, 10000.0, 1e-6);
            default -> throw new UsageException("unknown model preset '" + name + "'; one of " + PRESETS);
        };
    }

    public ModelConfig withVocab(int newVocab) {
        return new ModelConfig(newVocab, hidden, layers, heads, kvHeads, intermediate, seqLen, ropeTheta, rmsEps,
                tiedEmbeddings, ropeScaling);
    }

    public ModelConfig withSeqLen(int newSeqLen) {
        return new ModelConfig(vocab, hidden, layers, heads, kvHeads, intermediate, newSeqLen, ropeTheta, rmsEps,
                tiedEmbeddings, ropeScaling);
    }

    /** {@code newHeads} query heads; the key/value heads follow unless they were fewer (grouped) and still divide. */
    public ModelConfig withHeads(int newHeads) {
        int kv = kvHeads == heads || newHeads % kvHeads != 0 ? newHeads : kvHeads;
        return new ModelConfig(vocab, hidden, layers, newHeads, kv, intermediate, seqLen, ropeTheta, rmsEps,
                tiedEmbeddings, ropeScaling);
    }

    public ModelConfig withKvHeads(int newKvHeads) {
        return new ModelConfig(vocab, hidden, layers, heads, newKvHeads, intermediate, seqLen, ropeTheta, rmsEps,
                tiedEmbeddings, ropeScaling);
    }

    public ModelConfig withTiedEmbeddings(boolean tied) {
        return new ModelConfig(vocab, hidden, layers, heads, kvHeads, intermediate, seqLen, ropeTheta, rmsEps, tied,
                ropeScaling);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Rows of k_proj and v_proj: the key/value heads times the head size. */
    public int kvDim() {
        return kvHeads * headDim();
    }

    public long parameterCount() {
        long perLayer = 2L * hidden * hidden + 2L * hidden * kvDim() + 3L * hidden * intermediate + 2L * hidden;
        return (tiedEmbeddings ? 1L : 2L) * vocab * hidden + layers * perLayer + hidden;
    }

    /** The same keys as {@code LlamaConfig.to_dict()} would hold for them, so Python can rebuild the model. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("vocab_size", (long) vocab);
        map.put("hidden_size", (long) hidden);
        map.put("num_hidden_layers", (long) layers);
        map.put("num_attention_heads", (long) heads);
        map.put("num_key_value_heads", (long) kvHeads);
        map.put("intermediate_size", (long) intermediate);
        map.put("max_position_embeddings", (long) seqLen);
        map.put("rope_theta", ropeTheta);
        map.put("rms_norm_eps", rmsEps);
        map.put("tie_word_embeddings", tiedEmbeddings);
        if (ropeScaling != null) {
            map.put("rope_scaling", ropeScaling.toMap());
        }
        return map;
    }

    /** {@code config.json} of a {@code LlamaForCausalLM} of this shape whose weights are {@code torchDtype}. */
    public Map<String, Object> toHfConfig(String torchDtype) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("architectures", List.of("LlamaForCausalLM"));
        map.put("model_type", "llama");
        map.putAll(toMap());
        map.put("hidden_act", "silu");
        map.put("attention_bias", false);
        map.put("mlp_bias", false);
        map.put("initializer_range", 0.02);
        map.put("torch_dtype", torchDtype);
        return map;
    }

    /**
     * The shape a Hugging Face {@code config.json} describes, refused unless it is the LLaMA this engine builds;
     * {@code seqLen} replaces its {@code max_position_embeddings} when not null (the engine trains at that length).
     */
    public static ModelConfig fromHfConfig(Map<?, ?> config, Integer seqLen) {
        require(config, "model_type", "llama");
        require(config, "hidden_act", "silu");
        for (String off : List.of("attention_bias", "mlp_bias")) {
            if (Boolean.TRUE.equals(config.get(off))) {
                throw new IllegalArgumentException("config.json sets " + off + ", which this engine's LLaMA lacks");
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        config.forEach((k, v) -> values.put(String.valueOf(k), v));
        values.putIfAbsent("rope_theta", 10000.0);
        values.putIfAbsent("rms_norm_eps", 1e-6);
        if (seqLen != null) {
            values.put("max_position_embeddings", (long) seqLen);
        }
        return fromMap(values);
    }

    private static void require(Map<?, ?> config, String key, String value) {
        if (config.containsKey(key) && !value.equals(config.get(key))) {
            throw new IllegalArgumentException("config.json has " + key + " '" + config.get(key) + "', not '" + value + "'");
        }
    }

    /**
     * The shape {@link #toMap()} wrote; num_key_value_heads (absent: as many as the query heads, as in
     * {@code LlamaConfig}), tie_word_embeddings (absent: false) and rope_scaling (absent: none) are optional.
     */
    public static ModelConfig fromMap(Map<?, ?> map) {
        int heads = StateTrees.intValue(map, "num_attention_heads");
        Object kv = map.get("num_key_value_heads");
        return new ModelConfig(
                StateTrees.intValue(map, "vocab_size"),
                StateTrees.intValue(map, "hidden_size"),
                StateTrees.intValue(map, "num_hidden_layers"),
                heads,
                kv == null ? heads : StateTrees.intValue(map, "num_key_value_heads"),
                StateTrees.intValue(map, "intermediate_size"),
                StateTrees.intValue(map, "max_position_embeddings"),
                StateTrees.doubleValue(map, "rope_theta"),
                StateTrees.doubleValue(map, "rms_norm_eps"),
                Boolean.TRUE.equals(map.get("tie_word_embeddings")),
                RopeScaling.fromMap(map.get("rope_scaling")));
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
