package neuron.bench;

import neuron.engine.compress.CodecSettings;
import neuron.engine.compress.CompressedTensor;
import neuron.engine.compress.SparseCodec;
import neuron.engine.compress.UpdateFile;
import neuron.engine.model.LlamaLayout;
import neuron.engine.model.ModelConfig;
import neuron.engine.nativeio.LibTorch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * Size and speed of the sparse update format on a model-shaped delta of random normal values, tensor by tensor
 * (only one dense tensor is alive at a time, so {@code llama-1b} needs about 0.5 GB, not 4.8): compression of each
 * tensor, then the update file written, then decompression of each tensor. Prints one line per model:
 * {@code model params float32_bytes file_bytes ratio compress_s compress_cpu_s decompress_s decompress_cpu_s slowest_tensor}.
 * Usage: {@code UpdateCodecBench SCRATCH_DIR THREADS MODEL...}; bench/updates runs it.
 */
public final class UpdateCodecBench {
    private UpdateCodecBench() {
    }

    public static void main(String[] args) throws Exception {
        LibTorch.load();
        Path scratch = Path.of(args[0]);
        set_num_threads(Integer.parseInt(args[1]));
        SparseCodec codec = new SparseCodec(CodecSettings.DEFAULT);
        System.out.println("model params float32_bytes file_bytes ratio compress_s compress_cpu_s decompress_s decompress_cpu_s slowest_tensor");
        for (int a = 2; a < args.length; a++) {
            measure(args[a], codec, scratch);
        }
    }

    private static void measure(String model, SparseCodec codec, Path scratch) throws Exception {
        Map<String, long[]> shapes = LlamaLayout.shapes(ModelConfig.preset(model));
        Map<String, CompressedTensor> compressed = new LinkedHashMap<>();
        long params = 0;
        long compressNs = 0;
        long compressCpu = 0;
        long slowest = 0;
        String slowestName = "";
        manual_seed(1);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor delta = randn(e.getValue(), new TensorOptions(ScalarType.Float));
                params += delta.numel();
                long cpu0 = cpuNs();
                long t0 = System.nanoTime();
                CompressedTensor c = codec.compress(delta);
                long took = System.nanoTime() - t0;
                compressCpu += cpuNs() - cpu0;
                compressNs += took;
                if (took > slowest) {
                    slowest = took;
                    slowestName = e.getKey();
                }
                compressed.put(e.getKey(), c);
            }
        }
        Path file = scratch.resolve(model + ".pth");
        UpdateFile.write(file, Map.of("window", 0L), compressed);
        long fileBytes = Files.size(file);
        Files.delete(file);
        long decompressNs = 0;
        long decompressCpu = 0;
        for (CompressedTensor c : compressed.values()) {
            try (PointerScope scope = new PointerScope()) {
                long cpu0 = cpuNs();
                long t0 = System.nanoTime();
                Tensor dense = codec.decompress(c);
                decompressNs += System.nanoTime() - t0;
                decompressCpu += cpuNs() - cpu0;
                dense.close();
            }
            c.close();
        }
        long floatBytes = params * Float.BYTES;
        System.out.printf("%s %d %d %d %.4f %.2f %.2f %.2f %.2f %s(%.2fs)%n", model, params, floatBytes, fileBytes,
                (double) fileBytes / floatBytes, compressNs / 1e9, compressCpu / 1e9, decompressNs / 1e9,
                decompressCpu / 1e9, slowestName, slowest / 1e9);
    }

    /** CPU time of the whole process (all threads, LibTorch's included): on a loaded machine, what the work cost. */
    private static long cpuNs() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
