package neuron.bench;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.pth.PthReader;
import neuron.engine.torch.StoredTensor;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The engine's restores of a {@code .pth}: into fresh CPU tensors (as torch.load), or into live ones (a resume). */
final class Restore {
    private Restore() {
    }

    /** Restores {@code file} into fresh tensors (no CRC check), frees them, and returns the number of top-level entries. */
    static int restoreAndFree(Path file) throws IOException {
        try (PointerScope tensors = new PointerScope(); PthReader reader = PthReader.open(file)) {
            return ((Map<?, ?>) TensorTrees.materialize(reader.root(), reader)).size();
        }
    }

    /**
     * Reads {@code file} into the tensors of {@code live}, a tree of the same layout, as a resume does: every
     * storage straight into its tensor, every CRC checked, nothing allocated, no file page left cached.
     */
    static void intoLive(Path file, Map<String, Object> live) throws IOException {
        CheckpointLoader.load(file, "global_step", stored -> {
            copy(TensorTrees.stored(stored), live, "");
            return null;
        });
    }

    private static void copy(Object stored, Object live, String path) {
        if (stored instanceof StoredTensor t) {
            t.copyInto(path, (Tensor) live);
        } else if (stored instanceof Map<?, ?> m) {
            m.forEach((k, v) -> copy(v, ((Map<?, ?>) live).get(k), path + "/" + k));
        }
    }
}
