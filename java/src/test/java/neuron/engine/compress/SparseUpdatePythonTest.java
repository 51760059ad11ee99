package neuron.engine.compress;

import neuron.engine.pth.PthReader;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.testing.CheckpointScripts;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.equal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's update files against the Python reference (sparse_update.py, run by the real PyTorch): each side
 * decompresses the other's files to the same float32 values, bit for bit.
 */
@Slow
class SparseUpdatePythonTest {
    /** Every kind of chunking: full chunks, a right strip, a bottom strip, a corner, vectors, a tiny matrix. */
    private static final Map<String, long[]> SHAPES = SparseCodecTest.shapes(
            "mlp.up_proj.weight", new long[]{1376, 512}, "mlp.down_proj.weight", new long[]{512, 1376},
            "odd.weight", new long[]{70, 100}, "norm.weight", new long[]{512}, "long_norm.weight", new long[]{5000},
            "tiny.weight", new long[]{3, 3}, "conv.weight", new long[]{8, 4, 4});

    @TempDir
    Path dir;
    private final SparseCodec codec = new SparseCodec(CodecSettings.DEFAULT);

    @BeforeAll
    static void python() {
        PythonTorch.assumeAvailable();
    }

    private static Path script() throws Exception {
        return Path.of(SparseUpdatePythonTest.class.getResource("sparse_update.py").toURI());
    }

    private static Map<String, Tensor> inputs() {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        long seed = SparseCodecTest.SEED;
        for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
            inputs.put(e.getKey(), SparseCodecTest.random(seed++, e.getValue()));
        }
        return inputs;
    }

    private static Map<?, ?> readDense(Path file) throws Exception {
        try (PthReader reader = PthReader.open(file)) {
            return (Map<?, ?>) TensorTrees.materialize(reader.root(), reader);
        }
    }

    @Test
    void pythonDecompressesTheEnginesFileToTheEnginesValues() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, CompressedTensor> compressed = new LinkedHashMap<>();
            inputs().forEach((name, t) -> compressed.put(name, codec.compress(t)));
            Path update = dir.resolve("update.pth");
            UpdateFile.write(update, Map.of("window", 7L, "base", "ab".repeat(32)), compressed);
            // what PyTorch itself makes of the file, with weights_only=True
            String header = PythonTorch.run(CheckpointScripts.LOAD + """
                    u = load(sys.argv[1])
                    print(u['format'], u['version'], u['window'], u['base'][:4], list(u['params'])[0])
                    """, update.toString());
            assertEquals("neuron-sparse-update 1 7 abab mlp.up_proj.weight", header.strip());
            PythonTorch.runFile(script(), "decompress", update.toString(), dir.resolve("python.pth").toString());
            Map<?, ?> python = readDense(dir.resolve("python.pth"));
            assertEquals(SHAPES.keySet(), python.keySet());
            for (Map.Entry<String, CompressedTensor> e : compressed.entrySet()) {
                assertTrue(equal(codec.decompress(e.getValue()), (Tensor) python.get(e.getKey())), e.getKey());
            }
        }
    }

    @Test
    void theEngineDecompressesPythonsFileToPythonsValues() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> inputs = inputs();
            Path dense = dir.resolve("dense.pth");
            TensorTrees.save(dense, Map.of("tensors", new PyOrderedDict(inputs)));
            Path update = dir.resolve("python-update.pth");
            PythonTorch.runFile(script(), "compress", dense.toString(), update.toString(),
                    dir.resolve("python.pth").toString());
            Map<?, ?> python = readDense(dir.resolve("python.pth"));
            try (SparseUpdate read = UpdateFile.read(update, codec, SHAPES)) {
                assertEquals(Map.of("origin", "python"), read.header());
                for (String name : SHAPES.keySet()) {
                    CompressedTensor fromPython = read.tensors().get(name);
                    assertTrue(equal(codec.decompress(fromPython), (Tensor) python.get(name)), name);
                    // both sides choose the same positions (random values have no ties)
                    try (CompressedTensor ours = codec.compress(inputs.get(name))) {
                        assertTrue(equal(ours.indices(), fromPython.indices()), name + ": other positions chosen");
                    }
                }
            }
        }
    }
}
