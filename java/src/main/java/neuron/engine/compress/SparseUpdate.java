package neuron.engine.compress;

import java.util.Map;

/**
 * An update file's content: its header fields (integers and strings the caller defines, e.g. the window and the
 * base's hash) and one compressed tensor per parameter, in the file's order. Closing it frees the tensors.
 */
public record SparseUpdate(Map<String, Object> header, Map<String, CompressedTensor> tensors) implements AutoCloseable {
    @Override
    public void close() {
        tensors.values().forEach(CompressedTensor::close);
    }
}
