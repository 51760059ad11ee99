package neuron.engine.model;

import neuron.engine.torch.StoredTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/** Small checked tensor helpers shared by the model, the optimizer and the loop. */
public final class Tensors {
    private Tensors() {
    }

    public static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    /** Whether a tree value is a tensor leaf: a live tensor, or one of a checkpoint being restored. */
    public static boolean isLeaf(Object value) {
        return value instanceof Tensor || value instanceof StoredTensor;
    }

    public static long[] shapeOf(Object leaf) {
        return leaf instanceof StoredTensor stored ? stored.shape() : shape((Tensor) leaf);
    }

    public static ScalarType scalarTypeOf(Object leaf) {
        return leaf instanceof StoredTensor stored ? stored.scalarType() : ((Tensor) leaf).scalar_type().intern();
    }

    /**
     * Copies {@code source} into {@code target} in place, after checking shape and dtype: a tensor on any device,
     * or a tensor of a checkpoint being restored, read straight into {@code target}.
     */
    public static void copyInto(String name, Tensor target, Object leaf) {
        if (leaf instanceof StoredTensor stored) {
            stored.copyInto(name, target);
            return;
        }
        Tensor source = (Tensor) leaf;
        long[] want = shape(target);
        long[] got = shape(source);
        if (!Arrays.equals(want, got)) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(got) + ", expected "
                    + Arrays.toString(want));
        }
        if (source.scalar_type().intern() != target.scalar_type().intern()) {
            throw new IllegalArgumentException(name + ": dtype " + source.scalar_type().intern() + ", expected "
                    + target.scalar_type().intern());
        }
        target.copy_(source);
    }
}
