package neuron.engine.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configurations with the attention, tying and RoPE settings of LLaMA-family checkpoints users start from, made
 * narrow and shallow enough for a test: head counts, key/value heads, tying, rope_theta and rope_scaling are the
 * originals', the width, depth and vocabulary are not.
 */
public final class ModelFamilies {
    private ModelFamilies() {
    }

    /** TinyLlama-1.1B: 32 query heads sharing 4 key/value heads, an untied head. */
    public static final ModelConfig TINYLLAMA = new ModelConfig(320, 128, 2, 32, 4, 176, 64, 10000.0, 1e-5, false,
            null);
    /** Llama-3.2-1B: 32 query heads over 8 key/value heads, tied, LLaMA-3 RoPE scaling at theta 500000. */
    public static final ModelConfig LLAMA_3_2 = new ModelConfig(320, 256, 2, 32, 8, 384, 64, 500000.0, 1e-5, true,
            new ModelConfig.RopeScaling(32.0, 1.0, 4.0, 8192));
    /** SmolLM2-135M: 9 query heads over 3 key/value heads, tied, theta 100000. */
    public static final ModelConfig SMOLLM2 = new ModelConfig(320, 72, 2, 9, 3, 192, 64, 100000.0, 1e-5, true, null);

    /** The three, by the name of the model whose shape they have. */
    public static Map<String, ModelConfig> all() {
        Map<String, ModelConfig> all = new LinkedHashMap<>();
        all.put("TinyLlama-1.1B", TINYLLAMA);
        all.put("Llama-3.2-1B", LLAMA_3_2);
        all.put("SmolLM2-135M", SMOLLM2);
        return all;
    }
}
