package neuron.engine.checkpoint;

import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.StorageData;

import java.nio.file.Path;
import java.util.Map;

/**
 * An open checkpoint file, handed to a {@link CheckpointLoader.Restorer}: its value tree (tensor leaves are
 * {@link neuron.engine.pth.PthTensor}s), its progress value, and the bytes of each storage. Valid only while
 * the restorer runs; the loader closes it afterwards.
 */
public final class StoredCheckpoint {
    private final PthReader reader;
    private final Map<?, ?> root;
    private final long progress;

    StoredCheckpoint(PthReader reader, Map<?, ?> root, long progress) {
        this.reader = reader;
        this.root = root;
        this.progress = progress;
    }

    public Path file() {
        return reader.file();
    }

    /** The value tree; tensor leaves are descriptors over this file's storages. */
    public Map<?, ?> root() {
        return root;
    }

    /** The value of the progress key ({@code global_step} or {@code block}). */
    public long progress() {
        return progress;
    }

    /** The bytes of one storage of {@link #root()}, as views of the file. */
    public StorageData data(PthStorage storage) {
        return reader.data(storage);
    }
}
