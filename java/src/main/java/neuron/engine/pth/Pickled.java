package neuron.engine.pth;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A value tree pickled as {@code data.pkl}, with the storages it refers to in key order. The checkpoint pipeline
 * pickles on the loop's thread, stages the bytes, and the writer thread {@link #parse}s them back to stream the
 * archive, possibly in a later process: the pickle is the staged snapshot's self-describing metadata.
 */
public final class Pickled {
    private final byte[] bytes;
    private final List<PthStorage> storages;
    private final Object root;

    private Pickled(byte[] bytes, List<PthStorage> storages, Object root) {
        this.bytes = bytes;
        this.storages = Collections.unmodifiableList(storages);
        this.root = root;
    }

    /** Pickles {@code root}; storages are numbered in first-encounter order. */
    public static Pickled of(Object root) {
        Pickler.Result result = Pickler.pickle(root);
        ByteBuffer b = result.bytes();
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return new Pickled(out, new ArrayList<>(result.storages()), root);
    }

    /**
     * Unpickles staged bytes with the allow-list unpickler; storage keys must be 0..n-1.
     *
     * @param origin the file the bytes are destined for, named in errors
     */
    public static Pickled parse(Path origin, byte[] bytes) throws PthFormatException {
        Map<String, PthStorage> byKey = new HashMap<>();
        Object root = Unpickler.load(origin, ByteBuffer.wrap(bytes), (key, dtype, numel, location) ->
                byKey.computeIfAbsent(key, k -> new PthStorage(dtype, numel, location)));
        List<PthStorage> ordered = new ArrayList<>(byKey.size());
        for (int k = 0; k < byKey.size(); k++) {
            PthStorage s = byKey.get(Integer.toString(k));
            if (s == null) {
                throw new PthFormatException(origin, "staged storage keys are not 0.." + (byKey.size() - 1));
            }
            ordered.add(s);
        }
        return new Pickled(bytes, ordered, root);
    }

    /** data.pkl's bytes (not to be modified). */
    public byte[] bytes() {
        return bytes;
    }

    /** The storages, in key order: "0", "1", ... */
    public List<PthStorage> storages() {
        return storages;
    }

    public Object root() {
        return root;
    }
}
