package neuron.engine.pth;

import java.util.Locale;

/**
 * The tensor element types {@code torch.load(weights_only=True)} reads, quantized types aside. Those with a legacy
 * storage class ({@code torch.FloatStorage}, ...) are pickled with {@code _rebuild_tensor_v2}; the others, which
 * PyTorch 2.x added (float8 kinds, uint16/32/64, complex32, bits), with {@code _rebuild_tensor_v3} over a
 * {@code torch.UntypedStorage} and the dtype itself as a global.
 */
public enum DType {
    FLOAT32("FloatStorage", 4),
    FLOAT64("DoubleStorage", 8),
    FLOAT16("HalfStorage", 2),
    BFLOAT16("BFloat16Storage", 2),
    INT64("LongStorage", 8),
    INT32("IntStorage", 4),
    INT16("ShortStorage", 2),
    INT8("CharStorage", 1),
    UINT8("ByteStorage", 1),
    BOOL("BoolStorage", 1),
    COMPLEX64("ComplexFloatStorage", 8),
    COMPLEX128("ComplexDoubleStorage", 16),
    COMPLEX32(null, 4),
    UINT16(null, 2),
    UINT32(null, 4),
    UINT64(null, 8),
    FLOAT8_E4M3FN(null, 1),
    FLOAT8_E5M2(null, 1),
    FLOAT8_E4M3FNUZ(null, 1),
    FLOAT8_E5M2FNUZ(null, 1),
    FLOAT8_E8M0FNU(null, 1),
    FLOAT4_E2M1FN_X2(null, 1),
    BITS8(null, 1),
    BITS16(null, 2),
    BITS1X8(null, 1),
    BITS2X4(null, 1),
    BITS4X2(null, 1);

    private final String storageClass;
    private final int elementSize;

    DType(String storageClass, int elementSize) {
        this.storageClass = storageClass;
        this.elementSize = elementSize;
    }

    /** The class name in module {@code torch}, e.g. {@code FloatStorage}; null for a dtype PyTorch 2.x added. */
    public String storageClass() {
        return storageClass;
    }

    /** Whether torch pickles it with a legacy storage class ({@code _rebuild_tensor_v2}). */
    public boolean legacy() {
        return storageClass != null;
    }

    public int elementSize() {
        return elementSize;
    }

    /** The name Python prints, e.g. {@code float32}: also its attribute name in module {@code torch}. */
    public String pythonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The dtype whose storage class is {@code name}, or null when there is none. */
    public static DType ofStorageClass(String name) {
        for (DType type : values()) {
            if (name.equals(type.storageClass)) {
                return type;
            }
        }
        return null;
    }

    /** The dtype called {@code torch.<name>}, or null when there is none. */
    public static DType ofPythonName(String name) {
        for (DType type : values()) {
            if (type.pythonName().equals(name)) {
                return type;
            }
        }
        return null;
    }
}
