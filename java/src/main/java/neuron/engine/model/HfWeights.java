package neuron.engine.model;

import neuron.engine.checkpoint.UsageException;
import neuron.engine.hf.HfDirectory;
import neuron.engine.hf.SafetensorsFile;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A Hugging Face LLaMA directory ({@code config.json}, {@code model.safetensors}, as {@code neuron export} writes
 * it and {@code save_pretrained} does) as the starting point of a miner: its shape, then its weights. Problems with
 * the directory are the user's to fix: {@link UsageException}s naming the file.
 */
public final class HfWeights {
    private HfWeights() {
    }

    /** The model {@code dir} holds; {@code seqLen} (--seq_len, or null) replaces its max_position_embeddings. */
    public static ModelConfig config(Path dir, Integer seqLen) {
        Path file = dir.resolve(HfDirectory.CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--init_from " + dir + ": no " + HfDirectory.CONFIG + " there");
        }
        try {
            return ModelConfig.fromHfConfig(HfDirectory.readConfig(dir), seqLen);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException("--init_from " + file + ": " + e.getMessage(), e);
        }
    }

    /** Copies the weights of {@code dir}'s model.safetensors into {@code model}, after checking the layout. */
    public static void load(Path dir, LlamaModel model) {
        Path file = dir.resolve(HfDirectory.WEIGHTS);
        try (SafetensorsFile weights = SafetensorsFile.open(file); PointerScope scope = new PointerScope()) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            weights.entries().forEach(e -> shapes.put(e.name(), e.shape()));
            LlamaLayout.check(model.config(), shapes);
            Map<String, long[]> parameters = LlamaLayout.parameters(shapes);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafetensorsFile.Entry entry : weights.entries()) {
                if (parameters.containsKey(entry.name())) {
                    Tensor raw = TensorTrees.tensorOf(entry.dtype(), entry.shape(), weights.chunks(entry));
                    tensors.put(entry.name(), raw.to(ScalarType.Float));   // bf16 or fp16 weights widen exactly
                }
            }
            model.load(tensors);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException("--init_from " + file + ": " + e.getMessage(), e);
        }
    }
}
