package neuron.engine.pth;

/**
 * One storage of a {@code .pth} file: {@code numel} elements of one dtype. Identity matters, not equality:
 * tensors that refer to the same instance are views of the same bytes. The writer numbers storages itself
 * (first encounter in the value tree), so a storage carries no key.
 */
public final class PthStorage {
    private final DType dtype;
    private final long numel;
    private final String location;

    public PthStorage(DType dtype, long numel) {
        this(dtype, numel, "cpu");
    }

    /** {@code location} is torch's device string, e.g. {@code cpu} or {@code cuda:0}; torch.load maps it back. */
    public PthStorage(DType dtype, long numel, String location) {
        if (dtype == null || location == null) {
            throw new IllegalArgumentException("dtype and location are required");
        }
        if (numel < 0 || numel > Long.MAX_VALUE / dtype.elementSize()) {
            throw new IllegalArgumentException("storage element count out of range: " + numel);
        }
        this.dtype = dtype;
        this.numel = numel;
        this.location = location;
    }

    public DType dtype() {
        return dtype;
    }

    public long numel() {
        return numel;
    }

    public String location() {
        return location;
    }

    public long nbytes() {
        return numel * dtype.elementSize();
    }

    @Override
    public String toString() {
        return "PthStorage[" + dtype.pythonName() + " x " + numel + " @" + location + "]";
    }
}
