package neuron.engine.eval;

import neuron.engine.train.LlamaModel;
import neuron.engine.train.ModelConfig;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;

/** A submission store filled the way miners would, plus the bad inputs a validator must survive. */
final class Submissions {
    private Submissions() {
    }

    /**
     * For each window: uids 1 and 2 publish small random updates; every third window uid 3 publishes NaNs;
     * window 2 gets a file that is not a .pth from uid 4; window 4 a delta with a missing tensor from uid 5; window 5 a
     * finite delta so large that it would saturate the model (uid 6).
     */
    static void fill(SubmissionStore store, ModelConfig model, int windows) throws Exception {
        Map<String, long[]> shapes = LlamaModel.shapes(model);
        for (long w = 0; w < windows; w++) {
            for (int uid = 1; uid <= 2; uid++) {
                manual_seed(w * 100 + uid);
                store.publish(uid, w, w * 3 + 1, delta(shapes, uid == 1 ? 1e-3 : 5e-2, false));
            }
            if (w % 3 == 0) {
                store.publish(3, w, w * 3, delta(shapes, 1e-3, true));
            }
        }
        Files.writeString(store.path(2, 4), "not a checkpoint");
        Map<String, Tensor> missing = delta(shapes, 1e-3, false);
        missing.remove(missing.keySet().iterator().next());
        store.publish(5, 4, 13, missing);
        // finite, but it would saturate the model (normalisation overflows into uniform predictions)
        Map<String, Tensor> huge = delta(shapes, 1e-3, false);
        huge.replaceAll((name, t) -> t.sign().mul(new Scalar(3e38)));
        store.publish(6, 5, 16, huge);
    }

    /** Publishes a different update for {@code uid} in {@code window}, as if the file changed after evaluation. */
    static void replace(SubmissionStore store, ModelConfig model, long window, int uid) throws Exception {
        manual_seed(424242);
        store.publish(uid, window, window * 3 + 1, delta(LlamaModel.shapes(model), 1e-3, false));
    }

    private static Map<String, Tensor> delta(Map<String, long[]> shapes, double scale, boolean nan) {
        Map<String, Tensor> delta = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> {
            Tensor t = randn(shape).mul(new Scalar(scale));
            if (nan) {
                t = t.div(new Scalar(0.0)).mul(new Scalar(0.0));
            }
            delta.put(name, t);
        });
        return delta;
    }

    static Path storeDir(Path dir) {
        return dir.resolve("submissions");
    }
}
