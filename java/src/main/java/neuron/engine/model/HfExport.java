package neuron.engine.model;

import neuron.engine.hf.HfDirectory;
import neuron.engine.hf.Safetensors;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.StorageData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A miner checkpoint's model as a Hugging Face directory: {@code model.safetensors} and {@code config.json} for
 * {@code LlamaForCausalLM}. The tensor bytes stream from the checkpoint's mapping into the file; no LibTorch is
 * loaded. The mirror of {@link HfWeights}, which reads such a directory into a model.
 */
public final class HfExport {

    /** What was written: the model's configuration, its tensors and the bytes of {@code model.safetensors}. */
    public record Written(ModelConfig config, int tensors, long bytes) {
    }

    private HfExport() {
    }

    /**
     * Writes the model of {@code checkpoint} into {@code to} (created if needed).
     *
     * @param heads  attention heads, for a checkpoint without the engine's config (null: the preset's of that
     *               hidden size)
     * @param seqLen {@code max_position_embeddings}, for a checkpoint without the engine's config
     * @throws IllegalArgumentException for a checkpoint that holds no LLaMA of this engine's kind
     * @throws neuron.engine.pth.PthFormatException for a damaged file
     */
    public static Written write(Path checkpoint, Path to, Integer heads, int seqLen) throws IOException {
        try (PthReader reader = PthReader.open(checkpoint)) {
            reader.verify();
            Map<String, PthTensor> stateDict = stateDict(reader.root());
            Map<String, long[]> shapes = new LinkedHashMap<>();
            stateDict.forEach((name, t) -> shapes.put(name, t.shape()));
            ModelConfig config = config(reader.root(), stateDict, shapes, heads, seqLen);
            LlamaLayout.check(config, shapes);
            List<Safetensors.Tensor> tensors = new ArrayList<>();
            for (String name : LlamaLayout.parameters(shapes).keySet()) {
                if (config.tiedEmbeddings() && name.equals(LlamaLayout.HEAD)) {
                    continue;   // as save_pretrained: a tied head is the embedding, loaded under its name
                }
                tensors.add(tensor(reader, name, stateDict.get(name)));
            }
            Files.createDirectories(to);
            long bytes = Safetensors.write(to.resolve(HfDirectory.WEIGHTS), Map.of("format", "pt"), tensors);
            HfDirectory.writeConfig(to, config.toHfConfig(tensors.get(0).dtype().pythonName()));
            return new Written(config, tensors.size(), bytes);
        }
    }

    private static Map<String, PthTensor> stateDict(Object root) {
        if (!(root instanceof Map<?, ?> tree) || !(tree.get("model_state_dict") instanceof Map<?, ?> model)) {
            throw new IllegalArgumentException("not a miner checkpoint: no 'model_state_dict' dict");
        }
        Map<String, PthTensor> tensors = new LinkedHashMap<>();
        model.forEach((name, value) -> {
            if (!(name instanceof String n) || !(value instanceof PthTensor t)) {
                throw new IllegalArgumentException("model_state_dict holds " + name + " = " + value + ", not a named tensor");
            }
            tensors.put(n, t);
        });
        return tensors;
    }

    /** The engine's recorded configuration, else the one the tensors imply. */
    private static ModelConfig config(Object root, Map<String, PthTensor> tensors, Map<String, long[]> shapes,
                                      Integer heads, int seqLen) {
        if (((Map<?, ?>) root).get("config") instanceof Map<?, ?> config && config.get("model") instanceof Map<?, ?> model) {
            return ModelConfig.fromMap(model);
        }
        ModelConfig defaults = ModelConfig.preset("llama-1b").withSeqLen(seqLen);
        ModelConfig derived = LlamaLayout.derive(shapes, new LlamaLayout.Hints(heads == null ? defaults
                : defaults.withHeads(heads), heads != null)).config();
        PthTensor embedding = tensors.get("model.embed_tokens.weight");
        PthTensor head = tensors.get(LlamaLayout.HEAD);
        return embedding != null && head != null && embedding.storage() == head.storage()   // saved tied
                ? derived.withTiedEmbeddings(true) : derived;
    }

    /** A dense tensor's bytes as views of the checkpoint's mapping, in at most 512 MiB pieces. */
    private static Safetensors.Tensor tensor(PthReader reader, String name, PthTensor t) throws IOException {
        long[] shape = t.shape();
        long[] dense = PthTensor.contiguousStride(shape);
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1 && t.stride(d) != dense[d]) {
                throw new IllegalArgumentException("'" + name + "' is a strided view; export writes dense tensors");
            }
        }
        StorageData data = reader.data(t.storage());
        int size = t.dtype().elementSize();
        long begin = t.storageOffset() * size;
        long end = begin + t.numel() * size;
        List<ByteBuffer> views = new ArrayList<>();
        for (long at = begin; at < end; at += StorageData.MAX_VIEW_BYTES) {
            views.add(data.slice(at, (int) Math.min(StorageData.MAX_VIEW_BYTES, end - at)));
        }
        return new Safetensors.Tensor(name, t.dtype(), shape, views);
    }
}
