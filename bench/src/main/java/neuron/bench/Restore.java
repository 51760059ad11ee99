package neuron.bench;

import neuron.engine.torch.TensorTrees;
import neuron.engine.pth.PthReader;
import org.bytedeco.javacpp.PointerScope;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The engine's restore as torch.load does it (no CRC check): a {@code .pth} read back into CPU tensors. */
final class Restore {
    private Restore() {
    }

    /** Restores {@code file}, frees the tensors, and returns the number of top-level entries. */
    static int restoreAndFree(Path file) throws IOException {
        try (PointerScope tensors = new PointerScope(); PthReader reader = PthReader.open(file)) {
            return ((Map<?, ?>) TensorTrees.materialize(reader.root(), reader)).size();
        }
    }
}
