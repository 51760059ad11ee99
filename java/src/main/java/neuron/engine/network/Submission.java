package neuron.engine.network;

import neuron.engine.pth.PthReader;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A miner's update for one window, as it puts it in the store: {@code {'uid', 'window', 'base': hash of the base
 * model it trained from, 'delta': OrderedDict(name -> float32 tensor)}}, the change of its parameters over the
 * window. Reading one checks everything; every problem becomes a {@link Rejected} reason.
 */
public record Submission(int uid, long window, Hash32 base, Map<String, Tensor> delta) {
    /**
     * The largest change of one weight a window's update may make. Training moves a weight by far less; a larger
     * one saturates the model (normalisation layers overflow into uniform predictions, which can even score a
     * little better than a young model) and would poison the network's base if accepted.
     */
    public static final double MAX_ABS_DELTA = 100.0;

    /** Why a file is not used: logged, and scored as zero for its window. */
    public static final class Rejected extends Exception {
        public Rejected(String reason) {
            super(reason);
        }
    }

    /** The tree a miner puts in the store for {@code window}; {@code delta} holds CPU tensors by parameter name. */
    public static Map<String, Object> tree(int uid, long window, Hash32 base, Map<String, Tensor> delta) {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("uid", (long) uid);
        tree.put("window", window);
        tree.put("base", base.toHex());
        tree.put("delta", new PyOrderedDict(delta));
        return tree;
    }

    /**
     * Reads {@code file} as the update of {@code uid} for {@code window}: a valid {@code .pth} whose uid and window
     * match and whose delta has exactly the model's parameter names, shapes, float32 dtype and only finite values
     * no larger than {@link #MAX_ABS_DELTA}. Which base it names is the caller's to check.
     */
    public static Submission read(Path file, int uid, long window, Map<String, long[]> shapes) throws Rejected {
        Map<?, ?> root = load(file);
        long fileUid = integer(root, "uid");
        long fileWindow = integer(root, "window");
        if (fileUid != uid || fileWindow != window) {
            throw new Rejected("it says uid " + fileUid + " window " + fileWindow);
        }
        return new Submission(uid, window, hash(root, "base"), tensors(root, "delta", shapes));
    }

    /** A torch.save file's dict, tensors materialised; anything unreadable is a rejection. */
    static Map<?, ?> load(Path file) throws Rejected {
        try (PthReader reader = PthReader.open(file)) {
            if (!(reader.root() instanceof Map<?, ?> tree)) {
                throw new Rejected("not a dict");
            }
            return (Map<?, ?>) TensorTrees.materialize(tree, reader);
        } catch (IOException | RuntimeException e) {
            throw new Rejected("not a valid .pth: " + e.getMessage());
        }
    }

    /** {@code root[key]}: a dict of exactly the model's parameters, float32, finite, no value above the bound. */
    static Map<String, Tensor> tensors(Map<?, ?> root, String key, Map<String, long[]> shapes) throws Rejected {
        if (!(root.get(key) instanceof Map<?, ?> dict)) {
            throw new Rejected("no '" + key + "' dict");
        }
        if (!dict.keySet().equals(shapes.keySet())) {
            throw new Rejected("its " + key + "'s names do not match the model's parameters");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (!(dict.get(e.getKey()) instanceof Tensor t)) {
                throw new Rejected(e.getKey() + " is not a tensor");
            }
            if (t.scalar_type().intern() != ScalarType.Float) {
                throw new Rejected(e.getKey() + " is " + t.scalar_type().intern() + ", not float32");
            }
            if (!Arrays.equals(t.sizes().vec().get(), e.getValue())) {
                throw new Rejected(e.getKey() + " has shape " + Arrays.toString(t.sizes().vec().get()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
            if (!t.isfinite().all().item_bool()) {
                throw new Rejected(e.getKey() + " holds NaN or Inf");
            }
            double largest = t.numel() == 0 ? 0 : t.abs().max().item_double();
            if (largest > MAX_ABS_DELTA) {
                throw new Rejected(e.getKey() + " changes a weight by " + largest + " (more than " + MAX_ABS_DELTA + ")");
            }
            tensors.put(e.getKey(), t);
        }
        return tensors;
    }

    static long integer(Map<?, ?> root, String key) throws Rejected {
        if (!(root.get(key) instanceof Long n)) {
            throw new Rejected("no integer '" + key + "'");
        }
        return n;
    }

    static Hash32 hash(Map<?, ?> root, String key) throws Rejected {
        try {
            return Hash32.parseHex(root.get(key) instanceof String s ? s : null);
        } catch (IllegalArgumentException e) {
            throw new Rejected("no hash '" + key + "'");
        }
    }
}
