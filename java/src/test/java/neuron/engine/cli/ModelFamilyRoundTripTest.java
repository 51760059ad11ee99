package neuron.engine.cli;

import neuron.engine.hf.HfDirectory;
import neuron.engine.hf.Safetensors;
import neuron.engine.hf.SafetensorsFile;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerStart;
import neuron.engine.model.LlamaLayout;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.ModelFamilies;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.DType;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code miner --init_from} → a few steps → {@code export}, for directories shaped like TinyLlama-1.1B,
 * Llama-3.2-1B and SmolLM2-135M (their head, key/value-head, tying and RoPE settings, narrower and shallower):
 * config.json as Hugging Face writes one, random weights, no download. The exported directory has the same
 * shape and the trained weights; a tied head is left out of model.safetensors, as save_pretrained does.
 */
class ModelFamilyRoundTripTest {
    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    @Test
    void initFromTrainAndExportKeepTheShape(@TempDir Path dir) throws Exception {
        for (Map.Entry<String, ModelConfig> family : ModelFamilies.all().entrySet()) {
            ModelConfig config = family.getValue();
            Path hf = dir.resolve(family.getKey());
            writeHfDirectory(hf, config, 21);
            MinerArguments.Parsed parsed = MinerArguments.command("--device", "cpu", "--init_from", hf.toString(),
                    "--seq_len", "32", "--batch_size", "2");
            Path checkpoint = dir.resolve(family.getKey() + ".pth");
            Map<String, Tensor> trained = new LinkedHashMap<>();
            try (MinerLoop loop = MinerStart.begin(parsed.options(), parsed.flags()).loop()) {
                assertEquals(config.withSeqLen(32), loop.options().model(), family.getKey() + ": config.json's shape");
                for (int i = 0; i < 3; i++) {
                    float loss = loop.step();
                    assertTrue(Float.isFinite(loss), family.getKey() + " step " + i + ": " + loss);
                }
                TensorTrees.save(checkpoint, loop.state());
                loop.model().stateDict().forEach((name, t) -> trained.put(name, t.clone()));
            }
            Path out = dir.resolve(family.getKey() + "-export");
            CliRun export = CliRun.of("export", checkpoint.toString(), "--to", out.toString());
            assertEquals(Main.EXIT_OK, export.status(), export.err());
            assertEquals(config.withSeqLen(32), ModelConfig.fromHfConfig(HfDirectory.readConfig(out), null),
                    family.getKey() + ": exported config.json");
            try (SafetensorsFile weights = SafetensorsFile.open(out.resolve(HfDirectory.WEIGHTS))) {
                List<String> names = new ArrayList<>();
                for (SafetensorsFile.Entry entry : weights.entries()) {
                    names.add(entry.name());
                    try (Tensor read = TensorTrees.tensorOf(entry.dtype(), entry.shape(), weights.chunks(entry))) {
                        assertTrue(read.equal(trained.get(entry.name())), family.getKey() + ": " + entry.name());
                    }
                }
                assertEquals(List.copyOf(trained.keySet()), names, family.getKey() + ": tensors (a tied head is none)");
                assertEquals(!config.tiedEmbeddings(), names.contains(LlamaLayout.HEAD));
            }
        }
    }

    @Test
    void aRopeScalingTheEngineLacksIsRefusedWithOneLine(@TempDir Path dir) throws Exception {
        ModelConfig config = ModelFamilies.LLAMA_3_2;
        Path hf = dir.resolve("yarn");
        writeHfDirectory(hf, config, 3);
        Map<String, Object> json = new LinkedHashMap<>(HfDirectory.readConfig(hf));
        json.put("rope_scaling", Map.of("rope_type", "yarn", "factor", 4.0, "original_max_position_embeddings", 8192));
        HfDirectory.writeConfig(hf, json);
        CliRun refused = CliRun.of("miner", "--init_from", hf.toString(), "--device", "cpu", "--checkpoint-path",
                dir.resolve("m.pth").toString(), "--staging-dir", dir.resolve("staging").toString(), "--max-steps", "1");
        assertEquals(Main.EXIT_USAGE, refused.status(), refused.err());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains("rope_scaling of type 'yarn' is not implemented"), refused.err());
    }

    /** config.json with what Hugging Face adds beside the shape, and model.safetensors of seeded random weights. */
    private static void writeHfDirectory(Path hf, ModelConfig config, long seed) throws Exception {
        Map<String, Object> json = config.toHfConfig("float32");
        json.put("bos_token_id", 1L);
        json.put("eos_token_id", 2L);
        json.put("pretraining_tp", 1L);
        json.put("use_cache", true);
        json.putIfAbsent("rope_scaling", null);
        Files.createDirectories(hf);
        HfDirectory.writeConfig(hf, json);
        try (LlamaModel model = new LlamaModel(config, seed, new Device("cpu"))) {
            List<Safetensors.Tensor> tensors = new ArrayList<>();
            model.stateDict().forEach((name, t) -> tensors.add(new Safetensors.Tensor(name, DType.FLOAT32,
                    t.sizes().vec().get(), List.of(new BytePointer(t.data_ptr()).capacity(t.nbytes()).asByteBuffer()))));
            Safetensors.write(hf.resolve(HfDirectory.WEIGHTS), Map.of("format", "pt"), tensors);
        }
    }
}
