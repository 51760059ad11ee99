package neuron.engine.train;

import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;

/** Small checked tensor helpers shared by the model, the optimizer and the loop. */
final class Tensors {
    private Tensors() {
    }

    static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    /** Copies {@code source} (any device) into {@code target} in place, after checking shape and dtype. */
    static void copyInto(String name, Tensor target, Tensor source) {
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
