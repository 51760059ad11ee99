package neuron.engine.network;

import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a validator publishes for a window so that miners can follow the network's base without evaluating:
 * {@code {'window', 'base': hash of the base after adding it, 'aggregate': OrderedDict(name -> float32 tensor)}},
 * the mean of the window's accepted updates. A window whose aggregate is zero is committed with
 * {@link Hash32#ZERO} and has no file.
 */
public record Aggregate(long window, Hash32 base, Map<String, Tensor> tensors) {

    /** The tree a validator puts in the store for {@code window}. */
    public static Map<String, Object> tree(long window, Hash32 base, Map<String, Tensor> aggregate) {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("window", window);
        tree.put("base", base.toHex());
        tree.put("aggregate", new PyOrderedDict(aggregate));
        return tree;
    }

    /** Reads {@code file} as the aggregate of {@code window}, checked as strictly as an update. */
    public static Aggregate read(Path file, long window, Map<String, long[]> shapes) throws Submission.Rejected {
        Map<?, ?> root = Submission.load(file);
        long fileWindow = Submission.integer(root, "window");
        if (fileWindow != window) {
            throw new Submission.Rejected("it is the aggregate of window " + fileWindow);
        }
        return new Aggregate(window, Submission.hash(root, "base"), Submission.tensors(root, "aggregate", shapes));
    }
}
