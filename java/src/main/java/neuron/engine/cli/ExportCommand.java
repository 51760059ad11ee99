package neuron.engine.cli;

import neuron.engine.checkpoint.Failures;
import neuron.engine.hf.HfDirectory;
import neuron.engine.hf.Safetensors;
import neuron.engine.model.LlamaLayout;
import neuron.engine.model.ModelConfig;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.StorageData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code neuron export CHECKPOINT --to DIR}: a miner checkpoint's model as a Hugging Face directory. The tensor
 * bytes stream from the checkpoint's mapping into {@code model.safetensors}; no LibTorch is loaded.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write the model of a miner checkpoint (the engine's, or one the Python miner wrote) as a Hugging "
                + "Face LLaMA directory: model.safetensors and config.json for LlamaForCausalLM, which "
                + "from_pretrained and 'neuron miner --init_from DIR' read. Exit 0 when written, 1 for a damaged "
                + "file, 2 for bad usage or a checkpoint that holds no LLaMA.")
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "the .pth checkpoint")
    Path checkpoint;

    @Option(names = "--to", paramLabel = "DIR", required = true, description = "the directory to write (created if needed)")
    Path to;

    @Option(names = "--heads", paramLabel = "N", description = "attention heads, for a checkpoint without the "
            + "engine's config (default: the preset's of that hidden size)")
    Integer heads;

    @Option(names = "--seq_len", paramLabel = "N", defaultValue = "2048", description = "max_position_embeddings, "
            + "for a checkpoint without the engine's config (default: ${DEFAULT-VALUE}, LlamaConfig's)")
    int seqLen;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(checkpoint) || !Files.isReadable(checkpoint)) {
            err.println("neuron export: " + checkpoint + ": not a readable file");
            return Main.EXIT_USAGE;
        }
        try (PthReader reader = PthReader.open(checkpoint)) {
            reader.verify();
            Map<String, PthTensor> stateDict = stateDict(reader.root());
            Map<String, long[]> shapes = new LinkedHashMap<>();
            stateDict.forEach((name, t) -> shapes.put(name, t.shape()));
            ModelConfig config = config(reader.root(), stateDict, shapes);
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
            PrintWriter out = spec.commandLine().getOut();
            out.println(String.format(Locale.ROOT, "neuron export: %s -> %s: %d tensors, %,d bytes (%s, %,d parameters) "
                    + "in %s, and %s", checkpoint, to, tensors.size(), bytes, LlamaLayout.describe(config),
                    config.parameterCount(), HfDirectory.WEIGHTS, HfDirectory.CONFIG));
            out.flush();
            return Main.EXIT_OK;
        } catch (PthFormatException e) {
            err.println("neuron export: " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
        } catch (IllegalArgumentException e) {
            err.println("neuron export: " + checkpoint + ": " + Failures.oneLine(e));
            return Main.EXIT_USAGE;
        } catch (IOException e) {
            err.println("neuron export: " + Failures.oneLine(e));
            return Main.EXIT_FAILURE;
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
    private ModelConfig config(Object root, Map<String, PthTensor> tensors, Map<String, long[]> shapes) {
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
