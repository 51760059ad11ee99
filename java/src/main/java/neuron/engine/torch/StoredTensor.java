package neuron.engine.torch;

import neuron.engine.checkpoint.NonFiniteCheckpointException;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.nativeio.NativeIO;
import neuron.engine.pth.PthTensor;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

import static org.bytedeco.pytorch.global.torch.is_floating_point;

/**
 * A tensor leaf of a checkpoint being restored: not yet read. {@link #copyInto} reads its bytes straight into
 * the live tensor that is to hold them, so a restore allocates no second copy of the state.
 */
public final class StoredTensor {
    private final PthTensor tensor;
    private final StoredCheckpoint checkpoint;

    StoredTensor(PthTensor tensor, StoredCheckpoint checkpoint) {
        this.tensor = tensor;
        this.checkpoint = checkpoint;
    }

    public long[] shape() {
        return tensor.shape();
    }

    /** Whether both are views of one storage of the file, as torch.save writes tied parameters. */
    public boolean sharesStorageWith(StoredTensor other) {
        return tensor.storage() == other.tensor.storage();
    }

    public ScalarType scalarType() {
        return TensorTrees.scalarTypeOf(tensor.dtype());
    }

    /** Reads the tensor into {@code target} (any device) after checking shape and dtype; {@code name} is for errors. */
    public void copyInto(String name, Tensor target) {
        long[] want = target.sizes().vec().get();
        if (!Arrays.equals(want, tensor.shape())) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(tensor.shape()) + ", expected "
                    + Arrays.toString(want));
        }
        if (scalarType() != target.scalar_type().intern()) {
            throw new IllegalArgumentException(name + ": dtype " + tensor.dtype().pythonName() + ", expected "
                    + target.scalar_type().intern());
        }
        boolean whole = tensor.storageOffset() == 0 && tensor.numel() == tensor.storage().numel()
                && Arrays.equals(tensor.stride(), PthTensor.contiguousStride(tensor.shape()));
        if (whole && target.is_cpu() && target.is_contiguous()) {
            boolean float32 = scalarType() == ScalarType.Float;
            try {
                // float32 values are checked finite as they are read, in the same pass over the bytes
                checkpoint.readInto(tensor.storage(), target.data_ptr().address(), float32 ? name : null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (float32) {
                return;
            }
        } else {
            try (Tensor host = read()) {   // a device target or a view: one tensor's worth, freed at once
                target.copy_(host);
            }
        }
        requireFinite(name, target);
    }

    /** The tensor as a fresh CPU tensor (for small values read as a whole, such as scores); {@code name} is for errors. */
    public Tensor materialize(String name) {
        Tensor t = read();
        try {
            requireFinite(name, t);
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private Tensor read() {
        try {
            return TensorTrees.read(tensor, checkpoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * No loop saves a NaN or an infinity in its state (parameters, AdamW's moments and steps, scores): one there
     * means the file is damaged. One pass over the restored tensor where it now lives, and no copy of it: for
     * float32 on the CPU (nearly all of a checkpoint) a vectorised count of the values with every exponent bit
     * set, several times faster than a LibTorch reduction; aminmax for other tensors, and to name what was found.
     */
    private void requireFinite(String name, Tensor t) {
        if (!is_floating_point(t) || t.numel() == 0) {
            return;
        }
        if (t.is_cpu() && t.is_contiguous() && t.scalar_type().intern() == ScalarType.Float
                && NativeIO.nn_count_nonfinite_f32(t.data_ptr().address(), t.numel()) == 0) {
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            T_TensorTensor_T range = t.aminmax();   // NaN propagates into both
            double lo = range.get0().item_double();
            double hi = range.get1().item_double();
            if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
                String what = Double.isNaN(lo) || Double.isNaN(hi) ? "NaN" : "an infinity";
                throw new UncheckedIOException(new NonFiniteCheckpointException(checkpoint.file(), name, what));
            }
        }
    }

    @Override
    public String toString() {
        return "stored " + tensor;
    }
}
