package neuron.engine.pth;

import java.util.Arrays;

/**
 * A tensor leaf of the value tree: a strided view of a {@link PthStorage}, as
 * {@code torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, requires_grad, OrderedDict())} rebuilds it.
 * The constructor checks that every element the view can reach lies inside the storage.
 */
public final class PthTensor {
    /** torch's own limit on the number of dimensions. */
    public static final int MAX_DIMS = 64;

    private final PthStorage storage;
    private final long storageOffset;
    private final long[] shape;
    private final long[] stride;
    private final boolean requiresGrad;
    private final long numel;

    public PthTensor(PthStorage storage, long storageOffset, long[] shape, long[] stride, boolean requiresGrad) {
        if (storage == null || shape == null || stride == null) {
            throw new IllegalArgumentException("storage, shape and stride are required");
        }
        if (shape.length != stride.length || shape.length > MAX_DIMS) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and stride "
                    + Arrays.toString(stride) + " do not describe a tensor of at most " + MAX_DIMS + " dims");
        }
        this.storage = storage;
        this.storageOffset = storageOffset;
        this.shape = shape.clone();
        this.stride = stride.clone();
        this.requiresGrad = requiresGrad;
        this.numel = checkedExtent();
    }

    /** A dense row-major tensor over the start of {@code storage}. */
    public static PthTensor contiguous(PthStorage storage, long... shape) {
        return new PthTensor(storage, 0, shape, contiguousStride(shape), false);
    }

    public static long[] contiguousStride(long[] shape) {
        long[] stride = new long[shape.length];
        long step = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            stride[d] = step;
            step = Math.multiplyExact(step, Math.max(shape[d], 1));
        }
        return stride;
    }

    /** Returns numel after checking offset + the largest reachable index against the storage, without overflow. */
    private long checkedExtent() {
        if (storageOffset < 0) {
            throw new IllegalArgumentException("negative storage offset " + storageOffset);
        }
        long count = 1;
        long lastIndex = storageOffset;
        try {
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0 || stride[d] < 0) {
                    throw new IllegalArgumentException("negative size or stride: shape " + Arrays.toString(shape)
                            + " stride " + Arrays.toString(stride));
                }
                count = Math.multiplyExact(count, shape[d]);
                if (shape[d] > 0) {
                    lastIndex = Math.addExact(lastIndex, Math.multiplyExact(shape[d] - 1, stride[d]));
                }
            }
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("tensor extent overflows: shape " + Arrays.toString(shape)
                    + " stride " + Arrays.toString(stride), overflow);
        }
        if (count > 0 && lastIndex >= storage.numel()) {
            throw new IllegalArgumentException("tensor reaches element " + lastIndex + " of a storage of "
                    + storage.numel() + " elements");
        }
        return count;
    }

    public PthStorage storage() {
        return storage;
    }

    public DType dtype() {
        return storage.dtype();
    }

    /** In elements of the dtype. */
    public long storageOffset() {
        return storageOffset;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** In elements of the dtype. */
    public long[] stride() {
        return stride.clone();
    }

    public int dims() {
        return shape.length;
    }

    public long size(int dim) {
        return shape[dim];
    }

    public long stride(int dim) {
        return stride[dim];
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public long numel() {
        return numel;
    }

    @Override
    public String toString() {
        return "tensor(" + dtype().pythonName() + ", " + Arrays.toString(shape) + ")";
    }
}
