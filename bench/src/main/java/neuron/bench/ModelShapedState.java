package neuron.bench;

import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.empty;

/**
 * A checkpoint tree of float32 tensors shaped like a language model's, of an exact size: two large matrices
 * (embedding and head, about 45% of the bytes), 16 layers of 7 medium matrices (attention and MLP, about 55%) and
 * 32 norm vectors. Each tensor holds a constant of its own: the bytes' values do not matter to an uncompressed
 * format, their layout does.
 */
public final class ModelShapedState {
    static final int WIDTH = 1024;
    private static final int LAYERS = 16;
    private static final int MATRICES_PER_LAYER = 7;
    private static final int NORMS_PER_LAYER = 2;

    private ModelShapedState() {
    }

    /** {@code {"global_step": 0, "model_state_dict": OrderedDict}} of exactly {@code mib} MiB of tensor bytes. */
    public static Map<String, Object> create(int mib) {
        long rowsTotal = (long) mib * (1 << 20) / Float.BYTES / WIDTH;
        long normRows = LAYERS * NORMS_PER_LAYER;
        long layerRows = rowsTotal * 55 / 100 / (LAYERS * MATRICES_PER_LAYER);
        long largeRows = rowsTotal - normRows - layerRows * LAYERS * MATRICES_PER_LAYER;
        if (layerRows < 1 || largeRows < 2) {
            throw new IllegalArgumentException("a state of " + mib + " MiB is too small for this shape");
        }
        PyOrderedDict model = new PyOrderedDict();
        int[] next = {0};
        model.put("model.embed_tokens.weight", tensor(next, largeRows / 2, WIDTH));
        for (int layer = 0; layer < LAYERS; layer++) {
            String prefix = "model.layers." + layer + ".";
            for (String m : new String[]{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
                model.put(prefix + m + ".weight", tensor(next, layerRows, WIDTH));
            }
            model.put(prefix + "input_layernorm.weight", tensor(next, WIDTH));
            model.put(prefix + "post_attention_layernorm.weight", tensor(next, WIDTH));
        }
        model.put("lm_head.weight", tensor(next, largeRows - largeRows / 2, WIDTH));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", 0L);
        tree.put("model_state_dict", model);
        return tree;
    }

    /** The tensors of a tree made by {@link #create}, in order. */
    @SuppressWarnings("unchecked")
    public static Iterable<Tensor> tensors(Map<String, Object> tree) {
        return ((Map<String, Tensor>) (Map<?, ?>) tree.get("model_state_dict")).values();
    }

    private static Tensor tensor(int[] next, long... shape) {
        Tensor t = empty(shape, new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        t.fill_(new Scalar(++next[0] * 1e-3));
        return t;
    }
}
