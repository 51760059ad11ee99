package neuron.engine.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a LLaMA-style decoder: what Hugging Face's {@code LlamaConfig} calls vocab_size, hidden_size,
 * num_hidden_layers, num_attention_heads (= num_key_value_heads), intermediate_size, max_position_embeddings,
 * rope_theta and rms_norm_eps.
 */
public record ModelConfig(int vocab, int hidden, int layers, int heads, int intermediate, int seqLen,
                          double ropeTheta, double rmsEps) {

    public static final List<String> PRESETS = List.of("tiny", "small", "llama-1b");

    public ModelConfig {
        positive("vocab", vocab);
        positive("hidden", hidden);
        positive("layers", layers);
        positive("heads", heads);
        positive("intermediate", intermediate);
        positive("seqLen", seqLen);
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " must split into " + heads
                    + " heads of an even size (rotary embeddings rotate pairs)");
        }
    }

    /** {@code tiny}: the tests' model (about 250 k parameters); {@code small}: about 25 M; {@code llama-1b}: the reference system's. */
    public static ModelConfig preset(String name) {
        return switch (name) {
            case "tiny" -> new ModelConfig(256, 64, 4, 4, 192, 64, 10000.0, 1e-6);
            case "small" -> new ModelConfig(256, 512, 8, 8, 1376, 256, 10000.0, 1e-6);
            case "llama-1b" -> new ModelConfig(32000, 2048, 16, 8, 8192, 2048, 10000.0, 1e-6);
            default -> throw new IllegalArgumentException("unknown model preset '" + name + "'; one of " + PRESETS);
        };
    }

    public ModelConfig withVocab(int newVocab) {
        return new ModelConfig(newVocab, hidden, layers, heads, intermediate, seqLen, ropeTheta, rmsEps);
    }

    public ModelConfig withSeqLen(int newSeqLen) {
        return new ModelConfig(vocab, hidden, layers, heads, intermediate, newSeqLen, ropeTheta, rmsEps);
    }

    public ModelConfig withHeads(int newHeads) {
        return new ModelConfig(vocab, hidden, layers, newHeads, intermediate, seqLen, ropeTheta, rmsEps);
    }

    public int headDim() {
        return hidden / heads;
    }

    public long parameterCount() {
        long perLayer = 4L * hidden * hidden + 3L * hidden * intermediate + 2L * hidden;
        return 2L * vocab * hidden + layers * perLayer + hidden;
    }

    /** The same keys as {@code LlamaConfig.to_dict()} would hold for them, so Python can rebuild the model. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("vocab_size", (long) vocab);
        map.put("hidden_size", (long) hidden);
        map.put("num_hidden_layers", (long) layers);
        map.put("num_attention_heads", (long) heads);
        map.put("num_key_value_heads", (long) heads);
        map.put("intermediate_size", (long) intermediate);
        map.put("max_position_embeddings", (long) seqLen);
        map.put("rope_theta", ropeTheta);
        map.put("rms_norm_eps", rmsEps);
        map.put("tie_word_embeddings", false);
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
        for (String off : List.of("tie_word_embeddings", "attention_bias", "mlp_bias")) {
            if (Boolean.TRUE.equals(config.get(off))) {
                throw new IllegalArgumentException("config.json sets " + off + ", which this engine's LLaMA lacks");
            }
        }
        if (config.containsKey("num_key_value_heads") && !String.valueOf(config.get("num_key_value_heads"))
                .equals(String.valueOf(config.get("num_attention_heads")))) {
            throw new IllegalArgumentException("config.json has " + config.get("num_key_value_heads") + " key/value "
                    + "heads for " + config.get("num_attention_heads") + " query heads; this engine's LLaMA has as many");
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

    public static ModelConfig fromMap(Map<?, ?> map) {
        return new ModelConfig(
                StateTrees.intValue(map, "vocab_size"),
                StateTrees.intValue(map, "hidden_size"),
                StateTrees.intValue(map, "num_hidden_layers"),
                StateTrees.intValue(map, "num_attention_heads"),
                StateTrees.intValue(map, "intermediate_size"),
                StateTrees.intValue(map, "max_position_embeddings"),
                StateTrees.doubleValue(map, "rope_theta"),
                StateTrees.doubleValue(map, "rms_norm_eps"));
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
