package neuron.engine.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configuration a state dict's names and shapes imply, and the first tensor that fits no LLaMA. */
class LlamaLayoutTest {
    private static final LlamaLayout.Hints NO_HEADS = new LlamaLayout.Hints(ModelConfig.preset("tiny"), false);

    private static Map<String, long[]> of(ModelConfig config) {
        return new LinkedHashMap<>(LlamaLayout.shapes(config));
    }

    @Test
    void theConfigurationComesFromTheTensors() {
        ModelConfig odd = new ModelConfig(300, 64, 3, 4, 100, 64, 10000.0, 1e-6);
        LlamaLayout.Derived derived = LlamaLayout.derive(of(odd), NO_HEADS);
        assertEquals(odd, derived.config());
        assertEquals("preset tiny, which has hidden size 64", derived.headsFrom());

        ModelConfig small = ModelConfig.preset("small").withSeqLen(64);
        assertEquals(small, LlamaLayout.derive(of(small), NO_HEADS).config(), "heads of the preset with hidden 512");

        ModelConfig eightHeads = new ModelConfig(256, 64, 2, 8, 128, 64, 10000.0, 1e-6);
        LlamaLayout.Derived given = LlamaLayout.derive(of(eightHeads),
                new LlamaLayout.Hints(ModelConfig.preset("tiny").withHeads(8), true));
        assertEquals(eightHeads, given.config());
        assertEquals("--heads", given.headsFrom());

        Map<String, long[]> rotary = of(new ModelConfig(256, 96, 2, 6, 128, 64, 10000.0, 1e-6));
        rotary.put("model.layers.0.self_attn.rotary_emb.inv_freq", new long[]{8});
        rotary.put("model.layers.1.self_attn.rotary_emb.inv_freq", new long[]{8});
        assertEquals(6, LlamaLayout.derive(rotary, NO_HEADS).config().heads(), "96 / (2 x 8): the saved table's");

        ModelConfig grouped = ModelFamilies.SMOLLM2.withTiedEmbeddings(false);
        Map<String, long[]> smol = of(grouped);
        assertEquals(24, smol.get("model.layers.0.self_attn.k_proj.weight")[0], "3 key/value heads x 8");
        LlamaLayout.Derived kv = LlamaLayout.derive(smol, new LlamaLayout.Hints(ModelFamilies.SMOLLM2, true));
        assertEquals(3, kv.config().kvHeads(), "key/value heads from k_proj's rows");

        Map<String, long[]> tied = of(ModelConfig.preset("tiny"));
        tied.remove(LlamaLayout.HEAD);
        assertTrue(LlamaLayout.derive(tied, NO_HEADS).config().tiedEmbeddings(), "no lm_head: the embedding is the head");
        assertEquals(tied.keySet(), LlamaLayout.parameterShapes(ModelConfig.preset("tiny").withTiedEmbeddings(true)).keySet());
    }

    @Test
    void theFirstTensorThatDoesNotFitIsNamed() {
        ModelConfig tiny = ModelConfig.preset("tiny");
        Map<String, long[]> gqa = of(tiny);
        gqa.put("model.layers.1.self_attn.k_proj.weight", new long[]{32, 64});
        gqa.put("model.layers.2.self_attn.v_proj.weight", new long[]{32, 64});
        misfit(gqa, "'model.layers.1.self_attn.k_proj.weight' has shape [32, 64] where a LLaMA with vocab 256, "
                + "hidden 64, 4 layers, 4 heads, intermediate 192 has [64, 64]");

        Map<String, long[]> noNorm = of(tiny);
        noNorm.remove("model.norm.weight");
        misfit(noNorm, "'model.norm.weight' is missing");

        Map<String, long[]> gap = of(tiny);
        gap.keySet().removeIf(name -> name.startsWith("model.layers.2."));
        misfit(gap, "'model.layers.3.self_attn.q_proj.weight' [64, 64] is not a tensor of a LLaMA with vocab 256, "
                + "hidden 64, 3 layers");

        Map<String, long[]> gpt2 = new LinkedHashMap<>();
        gpt2.put("transformer.wte.weight", new long[]{50257, 768});
        gpt2.put("transformer.h.0.attn.c_attn.weight", new long[]{768, 2304});
        misfit(gpt2, "'transformer.wte.weight' is not a tensor of a LLaMA");

        Map<String, long[]> noPreset = of(new ModelConfig(256, 80, 2, 5, 128, 64, 10000.0, 1e-6));
        misfit(noPreset, "a state dict does not tell the number of attention heads, and no preset has hidden size 80: "
                + "pass --heads N");
        misfit(of(new ModelConfig(256, 48, 2, 4, 128, 64, 10000.0, 1e-6)), new LlamaLayout.Hints(tiny.withHeads(16), true),
                "hidden 48 must split into 16 heads of an even size");
    }

    private static void misfit(Map<String, long[]> shapes, String reason) {
        misfit(shapes, NO_HEADS, reason);
    }

    private static void misfit(Map<String, long[]> shapes, LlamaLayout.Hints hints, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaLayout.derive(shapes, hints));
        assertTrue(e.getMessage().startsWith("model_state_dict does not fit a LLaMA: "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
