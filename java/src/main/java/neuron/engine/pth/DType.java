package neuron.engine.pth;

/** The tensor element types a {@code .pth} file may hold here, with the legacy storage class torch pickles for each. */
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
    BOOL("BoolStorage", 1);

    private final String storageClass;
    private final int elementSize;

    DType(String storageClass, int elementSize) {
        this.storageClass = storageClass;
        this.elementSize = elementSize;
    }

    /** The class name in module {@code torch}, e.g. {@code FloatStorage}. */
    public String storageClass() {
        return storageClass;
    }

    public int elementSize() {
        return elementSize;
    }

    /** The name Python prints, e.g. {@code float32}. */
    public String pythonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The dtype whose storage class is {@code name}, or null when there is none. */
    public static DType ofStorageClass(String name) {
        for (DType type : values()) {
            if (type.storageClass.equals(name)) {
                return type;
            }
        }
        return null;
    }
}
